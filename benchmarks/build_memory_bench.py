"""slimgo build's own peak memory on a ~100 MB binary (issue 12: ≤ 100 MB; the binary is streamed, never held).

    python3 benchmarks/build_memory_bench.py [--mib 100] [--gzip-library zlib|libdeflate|zlib-ng|isal]

A Go program embeds MIB of random bytes (incompressible: the worst case for the compressor's buffers). slimgo
runs in this process's child with `getrusage(RUSAGE_SELF)` read at its end, so the number is slimgo's own
Python process (its threads included) and not `go build`'s, which runs in a grandchild. Twice: a cache miss
(the layer is compressed) and a hit (it is only hashed). The peer is the binary's size, measured the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MAIN = """package main

import (
	_ "embed"
	"fmt"
)

//go:embed data.bin
var data []byte

func main() { fmt.Println(len(data)) }
"""

RUN_AND_MEASURE = """
import resource, sys
from slimgo.cli import main
code = main(sys.argv[1:])
print("PEAK_KIB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def peak_kib(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, dict[str, object]]:
    proc = subprocess.run([sys.executable, "-c", RUN_AND_MEASURE, *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("PEAK_KIB"))
    return int(line.split()[1]), json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=100, help="random bytes embedded in the program, MiB")
    ap.add_argument("--gzip-library", default="zlib", help="slimgo build --gzip-library")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="slimgo-membench-") as tmp:
        work = Path(tmp)
        src = work / "big"
        src.mkdir()
        (src / "go.mod").write_text("module example.com/big\n\ngo 1.21\n")
        (src / "main.go").write_text(MAIN)
        with open(src / "data.bin", "wb") as fh:
            for _ in range(args.mib):
                fh.write(os.urandom(1 << 20))
        env = {"SLIMGO_CACHE": str(work / "cache")}
        rows = []
        for case in ("cache miss (compressed)", "cache hit (hashed only)"):
            kib, doc = peak_kib(["build", ".", "--tarball", str(work / "big.tar"), "--json",
                                        "--gzip-library", args.gzip_library], env, src)
            rows.append((case, kib, int(doc["binary_bytes"])))  # type: ignore[call-overload]
    print(f"{'case':<26} {'binary':>10} {'slimgo peak RSS':>16} {'peak / binary':>14}")
    for case, kib, binary in rows:
        print(f"{case:<26} {binary / 2**20:>6.1f} MiB {kib / 1024:>12.1f} MiB {kib * 1024 / binary:>13.2f}×")
    worst = max(kib for _, kib, _ in rows) * 1024
    print(f"target ≤ 100 MB: {'holds' if worst <= 100e6 else 'does NOT hold'} ({worst / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
