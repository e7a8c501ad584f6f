"""Deflate libraries for the binary's layer: zlib, zlib-ng, ISA-L and libdeflate, each level, as slimgo writes them.

    python3 benchmarks/compress_bench.py [BINARY ...] [--programs httpbin,node_exporter,caddy] [--runs 3]
                                         [--libraries zlib,zlib-ng,isal,libdeflate] [--blocks 1,4]
                                         [--only zlib:1,isal:3,libdeflate:6,libdeflate:6:4]

`--programs` builds those real programs first (`go install` of a pinned version, `CGO_ENABLED=0
-trimpath -ldflags "-s -w"`, into a temporary directory). Each binary is compressed exactly as slimgo
compresses a layer: blocks on every core, each primed with the previous 32 KiB (zlib, zlib-ng, ISA-L), or
each a gzip member of its own (libdeflate, which has no preset dictionary). So the sizes are the layer
sizes a build would get. `--blocks` also tries other block sizes in MiB (layers use 1). Runs are rotated
across every combination; the table shows medians of wall time and of CPU time (user + system of this
process and its threads, from getrusage: on a loaded machine it is the steadier number), and time and
size against zlib -6 in 1 MiB blocks (slimgo's default), measured in the same run. Every output is
decompressed with Python's gzip module (which joins members) and compared with the input.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import parts  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from slimgo.oci import compress  # noqa: E402

LEVELS = {"zlib": range(1, 10), "zlib-ng": range(1, 10), "isal": range(0, 4), "libdeflate": range(1, 13)}
REFERENCE = ("zlib", 6, 1)

Combo = tuple[str, int, int]  # library, level, block MiB


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def compress_file(path: Path, combo: Combo) -> tuple[float, float, bytes]:
    library, level, block_mib = combo
    t0, c0 = time.perf_counter(), _cpu()
    comp = compress.ParallelGzip(level, library=library, block=block_mib << 20)
    out = []
    with open(path, "rb") as fh:
        while chunk := fh.read(compress.BLOCK):
            out.append(comp.compress(chunk))
    out.append(comp.flush())
    return time.perf_counter() - t0, _cpu() - c0, b"".join(out)


def _combos(libraries: list[str], blocks: list[int], only: str) -> list[Combo]:
    combos = [(lib, lvl, b) for lib in libraries for lvl in LEVELS[lib] for b in blocks]
    if only:
        wanted = set()
        for item in only.split(","):
            lib, lvl, *rest = item.split(":")
            wanted.add((lib, int(lvl), int(rest[0]) if rest else 1))
        combos = [c for c in combos if c in wanted] + [c for c in wanted if c not in combos]
    return [REFERENCE] + [c for c in combos if c != REFERENCE]


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("binaries", nargs="*", type=Path)
    ap.add_argument("--programs", default="", help="build and measure these: " + ",".join(parts.PROGRAMS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--libraries", default="zlib,zlib-ng,isal,libdeflate")
    ap.add_argument("--blocks", default="1", help="block sizes in MiB, e.g. 1,4,8 (layers use 1)")
    ap.add_argument("--only", default="", help="library:level[:block MiB] items, e.g. zlib:1,libdeflate:6:4 "
                                               "(default: every level; zlib:6 is always measured)")
    args = ap.parse_args()
    console = Console(width=160)
    libraries = [lib for lib in args.libraries.split(",") if lib]
    unknown = [lib for lib in libraries if lib not in LEVELS]
    if unknown:
        raise SystemExit(f"unknown libraries: {', '.join(unknown)} (choose {', '.join(LEVELS)})")
    programs = [p for p in args.programs.split(",") if p]
    if bad := [p for p in programs if p not in parts.PROGRAMS]:
        raise SystemExit(f"unknown programs: {', '.join(bad)} (choose {', '.join(parts.PROGRAMS)})")
    if not programs and not args.binaries:
        raise SystemExit("name binaries or --programs")
    blocks = [int(b) for b in args.blocks.split(",") if b]
    combos = _combos(libraries, blocks, args.only)
    versions = {lib: compress.library_version(lib) for lib in sorted({c[0] for c in combos})}
    console.print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start; " +
                  ", ".join(f"{k} {v}" for k, v in versions.items()))
    with tempfile.TemporaryDirectory(prefix="slimgo-compress-bench-") as tmp:
        binaries = [*args.binaries, *(parts.install_program(p, Path(tmp)) for p in programs)]
        for binary in binaries:
            _measure(console, binary, combos, args.runs)
    return 0


def _measure(console: Console, binary: Path, combos: list[Combo], runs: int) -> None:
    data = binary.read_bytes()
    walls: dict[Combo, list[float]] = {c: [] for c in combos}
    cpus: dict[Combo, list[float]] = {c: [] for c in combos}
    sizes: dict[Combo, int] = {}
    loads = [os.getloadavg()[0]]
    for r in range(runs):
        for combo in combos[r % len(combos):] + combos[:r % len(combos)]:
            wall, cpu, out = compress_file(binary, combo)
            walls[combo].append(wall)
            cpus[combo].append(cpu)
            if combo not in sizes:
                if gzip.decompress(out) != data:
                    raise SystemExit(f"{combo}: round trip failed")
                sizes[combo] = len(out)
        loads.append(os.getloadavg()[0])
    ref_w, ref_c = statistics.median(walls[REFERENCE]), statistics.median(cpus[REFERENCE])
    ref_s = sizes[REFERENCE]
    table = Table(title=f"{binary.name}: {len(data) / 2**20:.1f} MiB, medians of {runs}, load average "
                        f"{min(loads):.1f}-{max(loads):.1f}")
    for col in ("library", "level", "block", "wall s", "vs zlib -6", "CPU s", "vs zlib -6 CPU", "compressed",
                "vs zlib -6 size"):
        table.add_column(col, justify="left" if col == "library" else "right")
    for combo in combos:
        wall, cpu = statistics.median(walls[combo]), statistics.median(cpus[combo])
        table.add_row(combo[0], str(combo[1]), f"{combo[2]} MiB", f"{wall:.3f}", f"{wall / ref_w:.2f}×",
                      f"{cpu:.3f}", f"{cpu / ref_c:.2f}×", f"{sizes[combo] / 2**20:.2f} MiB",
                      f"{sizes[combo] / ref_s:.4f}×")
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
