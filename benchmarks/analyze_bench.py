"""Analyze benchmark: slimgo analyze vs `go version -m` + `go tool nm -size`, and go-size-analyzer (gsa)
when `go install github.com/Zxilly/go-size-analyzer/cmd/gsa@latest` works.

    python3 benchmarks/analyze_bench.py [--runs N] [--binary PATH ...]

Binaries: the toolchain's `compile` and the largest Go binary found in GOROOT. Each tool runs as its own
process; wall time is the median of N runs, peak memory is that process's ru_maxrss (from wait4).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parts import measure  # noqa: E402


def run_many(cmds: list[list[str]], runs: int) -> tuple[float, int]:
    """Median total wall time of running cmds in sequence; the largest peak RSS among them."""
    times, peak = [], 0
    for _ in range(runs):
        total = 0.0
        for cmd in cmds:
            t, rss = measure(cmd)
            total += t
            peak = max(peak, rss)
        times.append(total)
    return statistics.median(times), peak


def go_binaries() -> list[Path]:
    goroot = Path(subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True).stdout.strip())
    tooldir = Path(subprocess.run(["go", "env", "GOTOOLDIR"], capture_output=True, text=True).stdout.strip())
    candidates = [p for p in [*goroot.joinpath("bin").iterdir(), *tooldir.iterdir()] if p.is_file()]
    largest = max(candidates, key=lambda p: p.stat().st_size)
    out = [tooldir / "compile"]
    if largest != out[0]:
        out.append(largest)
    return out


def find_gsa(work: Path) -> tuple[str | None, str]:
    if shutil.which("gsa"):
        return shutil.which("gsa"), ""
    proc = subprocess.run(["go", "install", "github.com/Zxilly/go-size-analyzer/cmd/gsa@latest"],
                          env={**os.environ, "GOBIN": str(work)}, capture_output=True, text=True)
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "go install failed"
    return str(work / "gsa"), ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", type=Path, action="append", default=[],
                    help="also measure this binary (e.g. an unstripped caddy; issue 12's target)")
    args = ap.parse_args()
    console = Console(width=150)
    with tempfile.TemporaryDirectory() as tmp:
        gsa, why = find_gsa(Path(tmp))
        if gsa is None:
            console.print(f"[yellow]gsa not measured[/]: {why}")
        table = Table(title=f"analyze benchmark (median of {args.runs} runs; peak RSS per process)")
        for col in ("binary", "size", "tool", "time s", "peak RSS", "time vs slimgo"):
            table.add_column(col, justify="left" if col in ("binary", "tool") else "right")
        verdicts = []
        for binary in [*go_binaries(), *args.binary]:
            rows = []
            slim_t, slim_m = run_many([[sys.executable, "-m", "slimgo", "analyze", str(binary), "--json"]], args.runs)
            rows.append(("slimgo analyze", slim_t, slim_m))
            nm_t, nm_m = run_many([["go", "tool", "nm", "-size", str(binary)]], args.runs)
            peer_t, peer_m = run_many([["go", "version", "-m", str(binary)], ["go", "tool", "nm", "-size", str(binary)]],
                                      args.runs)
            rows.append(("go tool nm -size", nm_t, nm_m))
            rows.append(("go version -m + go tool nm -size", peer_t, peer_m))
            if gsa:
                g_t, g_m = run_many([[gsa, "-f", "json", str(binary)]], args.runs)
                rows.append(("gsa", g_t, g_m))
                verdicts.append(f"{binary.name}: slimgo {slim_t:.3f}s vs gsa {g_t:.3f}s "
                                f"({'met' if slim_t <= g_t else 'NOT met'}: at most gsa's time)")
            verdicts.append(f"{binary.name}: slimgo {slim_t:.3f}s vs go tool nm -size {nm_t:.3f}s = "
                            f"{slim_t / nm_t:.2f}× ({'met' if slim_t <= nm_t else 'NOT met'}: at most 1.0×, issue 12)")
            for tool, t, m in rows:
                table.add_row(binary.name, f"{binary.stat().st_size / 1e6:.1f} MB", tool, f"{t:.3f}",
                              f"{m / 1e6:.0f} MB", f"{t / slim_t:.2f}×")
        console.print(table)
        for v in verdicts:
            console.print("  " + v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
