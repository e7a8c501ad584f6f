"""Analyze benchmark: `slimgo analyze BINARY --json` against `go tool nm -size BINARY` (issue 12: at most
1.0× on the largest binaries), in the same rounds, with the per-package sizes checked against nm's.

    python3 benchmarks/analyze_bench.py [--runs N] [--caddy] [--binary PATH ...] [--gsa]

Binaries: the toolchain's `compile` (and the largest Go binary in GOROOT, when that is another), an
unstripped caddy with --caddy (built once with `go install` into a temporary GOBIN; the Go caches are
shared), and any --binary. Each tool runs as its own process, tools rotated within each round after one
warm-up run each (so both read a binary from the page cache). Wall time (the target) and CPU time (user +
system: it moves less with the machine's load, and nm's wall time gains from a second thread) are medians
of N rounds; peak memory is the process's ru_maxrss. slimgo runs as the `slimgo` command installed beside
this Python (else `python -m slimgo`), its modules byte-compiled first as `pip install` does: what is
measured is an installed slimgo's start-up, not one that compiles its sources at every start (as it would
under PYTHONDONTWRITEBYTECODE). --gsa adds go-size-analyzer
(`go install github.com/Zxilly/go-size-analyzer/cmd/gsa@latest`) when it installs.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parts import measure_cpu, sh, slimgo_command  # noqa: E402

from slimgo.binary.pclntab import package_of  # noqa: E402

CADDY = "github.com/caddyserver/caddy/v2/cmd/caddy@v2.11.9"


def go_binaries() -> list[Path]:
    goroot = Path(sh("go", "env", "GOROOT").stdout.strip())
    tooldir = Path(sh("go", "env", "GOTOOLDIR").stdout.strip())
    candidates = [p for p in [*goroot.joinpath("bin").iterdir(), *tooldir.iterdir()] if p.is_file()]
    largest = max(candidates, key=lambda p: p.stat().st_size)
    out = [tooldir / "compile"]
    if largest != out[0]:
        out.append(largest)
    return out


def build_caddy(work: Path) -> Path:
    """An unstripped caddy (no -ldflags), as `go install` builds it."""
    sh("go", "install", CADDY, env={"GOBIN": str(work)})
    return work / "caddy"


def find_gsa(work: Path) -> tuple[str | None, str]:
    if shutil.which("gsa"):
        return shutil.which("gsa"), ""
    proc = sh("go", "install", "github.com/Zxilly/go-size-analyzer/cmd/gsa@latest", env={"GOBIN": str(work)},
              check=False)
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "go install failed"
    return str(work / "gsa"), ""


@dataclass
class Runs:
    wall: list[float]
    cpu: list[float]
    peak_rss: int


def rounds(tools: dict[str, list[str]], runs: int) -> dict[str, Runs]:
    """Each tool once to warm up, then `runs` rounds with the tools in rotated order: every tool meets the
    same load."""
    names = list(tools)
    for name in names:
        measure_cpu(tools[name])
    out = {name: Runs([], [], 0) for name in names}
    for i in range(runs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            wall, rss, cpu = measure_cpu(tools[name])
            out[name].wall.append(wall)
            out[name].cpu.append(cpu)
            out[name].peak_rss = max(out[name].peak_rss, rss)
    return out


def nm_packages(binary: Path) -> tuple[dict[str, int], int]:
    """Per-package file bytes and .bss bytes from `go tool nm -size` (.bss ranges from pyelftools)."""
    from elftools.elf.elffile import ELFFile

    with open(binary, "rb") as fh:
        nobits = [(s["sh_addr"], s["sh_addr"] + s["sh_size"]) for s in ELFFile(fh).iter_sections()
                  if s["sh_type"] == "SHT_NOBITS"]
    totals: collections.Counter[str] = collections.Counter()
    bss = 0
    for line in sh("go", "tool", "nm", "-size", binary).stdout.splitlines():
        parts = line.split(None, 3)  # names of generic instantiations contain spaces
        if len(parts) < 4 or parts[2] not in "TtRrDdBb":
            continue
        addr, size = int(parts[0], 16), int(parts[1])
        if parts[2] in "Bb" or any(lo <= addr < hi for lo, hi in nobits):  # nm labels .bss symbols D
            bss += size
        elif size:
            totals[package_of(parts[3]) or "(other)"] += size
    return dict(totals), bss


def agreement(binary: Path) -> str:
    """Whether slimgo's packages and .bss bytes are nm's, exactly."""
    try:
        want, bss = nm_packages(binary)
    except ImportError:
        return "not checked (pyelftools, a test extra, is not installed)"
    doc = json.loads(sh(sys.executable, "-m", "slimgo", "analyze", binary, "--json").stdout)
    got = {p["name"]: p["bytes"] for p in doc["packages"]}
    if doc["size_source"] != "symtab":
        return f"not comparable: sized from {doc['size_source']}"
    differ = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
    if not differ and doc["bss_bytes"] == bss:
        return f"equal to nm: {len(got)} packages, {sum(got.values())} bytes, .bss {bss} bytes"
    return f"DIFFERENT from nm: {len(differ)} packages (e.g. {differ[:3]}), .bss {doc['bss_bytes']} vs {bss}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--caddy", action="store_true", help=f"also build and measure an unstripped {CADDY}")
    ap.add_argument("--binary", type=Path, action="append", default=[], help="also measure this binary")
    ap.add_argument("--gsa", action="store_true", help="also measure go-size-analyzer (installed with go install)")
    args = ap.parse_args()
    console = Console(width=160)
    slimgo_cmd = slimgo_command()
    with tempfile.TemporaryDirectory(prefix="slimgo-analyze-bench-") as tmp:
        work = Path(tmp)
        binaries = [*go_binaries(), *args.binary]
        if args.caddy:
            console.print(f"building {CADDY} …")
            binaries.append(build_caddy(work))
        gsa = None
        if args.gsa:
            gsa, why = find_gsa(work)
            if gsa is None:
                console.print(f"[yellow]gsa not measured[/]: {why}")
        load_start = os.getloadavg()[0]
        table = Table()
        for col in ("binary", "size", "tool", "wall s", "min–max s", "vs nm", "CPU s", "CPU vs nm", "peak RSS"):
            table.add_column(col, justify="left" if col in ("binary", "tool") else "right")
        verdicts = []
        for binary in binaries:
            tools = {"slimgo analyze --json": [*slimgo_cmd, "analyze", str(binary), "--json"],
                     "slimgo analyze (text)": [*slimgo_cmd, "analyze", str(binary)],
                     "go tool nm -size": ["go", "tool", "nm", "-size", str(binary)]}
            if gsa:
                tools["gsa -f json"] = [gsa, "-f", "json", str(binary)]
            results = rounds(tools, args.runs)
            nm = results["go tool nm -size"]
            nm_wall, nm_cpu = statistics.median(nm.wall), statistics.median(nm.cpu)
            for tool, r in results.items():
                wall, cpu = statistics.median(r.wall), statistics.median(r.cpu)
                table.add_row(binary.name, f"{binary.stat().st_size / 2**20:.1f} MiB", tool, f"{wall:.3f}",
                              f"{min(r.wall):.3f}–{max(r.wall):.3f}", f"{wall / nm_wall:.2f}×", f"{cpu:.3f}",
                              f"{cpu / nm_cpu:.2f}×", f"{r.peak_rss / 2**20:.0f} MiB")
            for mode in ("--json", "(text)"):
                wall = statistics.median(results[f"slimgo analyze {mode}"].wall)
                verdicts.append(f"{binary.name}: slimgo analyze {mode} {wall:.3f} s vs nm {nm_wall:.3f} s = "
                                f"{wall / nm_wall:.2f}× ({'met' if wall <= nm_wall else 'NOT met'}: at most 1.0×)")
            verdicts.append(f"{binary.name}: {agreement(binary)}")
        table.title = (f"slimgo analyze vs go tool nm -size (medians of {args.runs} rounds, tools rotated; "
                       f"load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)")
        console.print(table)
        for v in verdicts:
            console.print("  " + v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
