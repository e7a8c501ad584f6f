"""Unpack benchmark: slimgo's descriptor-relative unpacker (compare's rootfs) vs umoci's on the same layers.

    python3 benchmarks/unpack_bench.py [--runs N] [--files N]

The image: a lower layer of N files in nested directories (plus symlinks and hard links) and an upper layer
that whites out a tenth of them, replaces a directory with an opaque whiteout and adds files; both gzip.
Each tool unpacks into a fresh directory in its own process; wall time is the median of the runs, peak
memory the process's ru_maxrss. The trees are compared, so the table only shows equal work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from parts import measure  # noqa: E402

from tests.support.hostile import E, dir_, image_layout, layer, link, snapshot, sym  # noqa: E402

SLIMGO_UNPACK = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from tests.support.hostile import source_layers, Blob
from slimgo.sources.unpack import unpack_layers
import json
blobs = [Blob(Path(p).read_bytes(), mt) for p, mt in json.loads(Path(sys.argv[1]).read_text())]
unpack_layers(source_layers(blobs), Path(sys.argv[2]))
"""


def make_layers(files: int) -> list:  # type: ignore[type-arg]
    lower = [dir_("usr"), dir_("usr/lib"), dir_("etc"), dir_("var"), dir_("var/cache")]
    for d in range(files // 100 + 1):
        lower.append(dir_(f"usr/lib/d{d}"))
        for f in range(min(100, files - d * 100)):
            lower.append(E(f"usr/lib/d{d}/f{f}", data=os.urandom(64) * (1 + f % 16)))
    lower += [sym("lib", "usr/lib"), link("etc/hard", "usr/lib/d0/f1"), E("var/cache/old", data=b"x" * 4096)]
    upper = [E(f"usr/lib/d{d}/.wh.f{f}") for d in range(files // 100) for f in range(0, 100, 10)]
    upper += [E("var/cache/.wh..wh..opq"), E("var/cache/new", data=b"y" * 4096), E("etc/added", data=b"z")]
    return [layer(lower, compress=True), layer(upper, compress=True)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--files", type=int, default=20_000)
    args = ap.parse_args()
    umoci = shutil.which("umoci")
    if umoci is None:
        print("umoci is not installed (apt-get install umoci)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="slimgo-unpack-bench-") as tmp:
        work = Path(tmp)
        blobs = make_layers(args.files)
        image_layout(blobs).write(work / "layout")
        listing = work / "layers.json"
        import json

        paths = []
        for i, b in enumerate(blobs):
            p = work / f"layer{i}"
            p.write_bytes(b.data)
            paths.append([str(p), b.media_type])
        listing.write_text(json.dumps(paths))
        tools = {
            "slimgo": lambda dest: [sys.executable, "-c", SLIMGO_UNPACK, str(listing), str(dest), str(REPO)],
            "umoci": lambda dest: [umoci, "raw", "unpack", "--image", f"{work / 'layout'}:t", str(dest)],
        }
        env_path = str(REPO / "src")
        os.environ["PYTHONPATH"] = env_path + os.pathsep + os.environ.get("PYTHONPATH", "")
        results: dict[str, tuple[float, int]] = {}
        trees = {}
        for name, cmd in tools.items():
            times, peak = [], 0
            for run in range(args.runs):
                dest = work / f"{name}-{run}"
                elapsed, rss = measure(cmd(dest))
                times.append(elapsed)
                peak = max(peak, rss)
                if run == 0:
                    trees[name] = snapshot(dest)
                shutil.rmtree(dest)
            results[name] = (statistics.median(times), peak)
        same = trees["slimgo"] == trees["umoci"]
    table = Table(title=f"unpack: {args.files} files, 2 gzip layers, median of {args.runs} runs "
                        f"(trees {'identical' if same else 'DIFFER'})")
    for col in ("tool", "wall s", "vs umoci", "peak RSS MiB"):
        table.add_column(col, justify="left" if col == "tool" else "right")
    base = results["umoci"][0]
    for name, (wall, rss) in results.items():
        table.add_row(name, f"{wall:.2f}", f"{wall / base:.2f}x", f"{rss / (1 << 20):.0f}")
    Console().print(table)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
