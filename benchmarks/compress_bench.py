"""Deflate libraries for the binary's layer: zlib vs zlib-ng vs ISA-L, each level, in slimgo's parallel blocks.

    python3 benchmarks/compress_bench.py BINARY [BINARY ...] [--runs 3] [--libraries zlib,zlib-ng,isal]
                                         [--only zlib:1,isal:3]

Each binary is compressed exactly as slimgo compresses a layer (1 MiB blocks on every core, each primed with
the previous 32 KiB), so the sizes are the layer sizes a build would get. Runs are rotated across libraries
and levels; the table shows the median wall time, throughput, compressed size and both against zlib -6
(slimgo's default) measured in the same run. Every output is decompressed once and compared with the input.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from slimgo.oci import compress  # noqa: E402

LEVELS = {"zlib": range(1, 10), "zlib-ng": range(1, 10), "isal": range(0, 4)}


def compress_file(path: Path, library: str, level: int) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    comp = compress.ParallelGzip(level, library=library)
    out = []
    with open(path, "rb") as fh:
        while chunk := fh.read(compress.BLOCK):
            out.append(comp.compress(chunk))
    out.append(comp.flush())
    return time.perf_counter() - t0, b"".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binaries", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--libraries", default="zlib,zlib-ng,isal")
    ap.add_argument("--only", default="", help="library:level pairs, e.g. zlib:6,zlib:1,isal:3 (default: all)")
    args = ap.parse_args()
    console = Console(width=150)
    libraries = [lib for lib in args.libraries.split(",") if lib]
    versions = {lib: compress.library_version(lib) for lib in libraries}
    load = os.getloadavg()
    console.print(f"{os.cpu_count()} cores; load average {load[0]:.1f}; " +
                  ", ".join(f"{k} {v}" for k, v in versions.items()))
    for binary in args.binaries:
        data = binary.read_bytes()
        combos = [(lib, lvl) for lib in libraries for lvl in LEVELS[lib]]
        if args.only:
            wanted = {(c.split(":")[0], int(c.split(":")[1])) for c in args.only.split(",")}
            combos = [c for c in combos if c in wanted | {("zlib", 6)}]
        times: dict[tuple[str, int], list[float]] = {c: [] for c in combos}
        sizes: dict[tuple[str, int], int] = {}
        for r in range(args.runs):
            for combo in combos[r % len(combos):] + combos[:r % len(combos)]:
                elapsed, out = compress_file(binary, *combo)
                times[combo].append(elapsed)
                if combo not in sizes:
                    if zlib.decompress(out, 31) != data:
                        raise SystemExit(f"{combo}: round trip failed")
                    sizes[combo] = len(out)
        ref_t = statistics.median(times[("zlib", 6)]) if ("zlib", 6) in times else None
        ref_s = sizes.get(("zlib", 6))
        table = Table(title=f"{binary.name}: {len(data) / 2**20:.1f} MiB, medians of {args.runs}")
        for col in ("library", "level", "wall s", "MiB/s", "vs zlib -6 time", "compressed", "vs zlib -6 size"):
            table.add_column(col, justify="left" if col == "library" else "right")
        for combo in combos:
            t = statistics.median(times[combo])
            table.add_row(combo[0], str(combo[1]), f"{t:.3f}", f"{len(data) / 2**20 / t:.0f}",
                          f"{t / ref_t:.2f}×" if ref_t else "-", f"{sizes[combo] / 2**20:.2f} MiB",
                          f"{sizes[combo] / ref_s:.4f}×" if ref_s else "-")
        console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
