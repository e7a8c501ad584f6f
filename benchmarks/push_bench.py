"""Push benchmark: slimgo's registry client vs `skopeo copy` of the same image, to a loopback registry.

    python3 benchmarks/push_bench.py [--runs N]

The image is the real program used by build_bench (whoami when the module proxy serves it, else
go-httpbin), built once by slimgo into an OCI layout. Each run pushes to a fresh repository, so every blob
is uploaded; slimgo's time is its measured push step (`timings_seconds.push`), skopeo's is its wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import parts  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.support.registry import registry  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    console = Console(width=140)
    with tempfile.TemporaryDirectory(prefix="slimgo-push-") as tmp:
        work = Path(tmp)
        label, src, pkg = parts.pick_program(work / "src")
        layout = work / "layout"
        build = [sys.executable, "-m", "slimgo", "build", pkg, "--no-reference", "--json", "--tag", "bench:1"]
        subprocess.run([*build, "--oci-layout", str(layout)], cwd=src, check=True, capture_output=True)
        slim, skop = [], []
        with registry(work / "registry") as host:
            for i in range(args.runs):
                out = subprocess.run([*build, "--push", f"{host}/slimgo{i}/app:1"], cwd=src, check=True,
                                     capture_output=True, text=True)
                slim.append(json.loads(out.stdout)["timings_seconds"]["push"])
                t0 = time.perf_counter()
                subprocess.run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:1",
                                f"docker://{host}/skopeo{i}/app:1"], check=True, capture_output=True)
                skop.append(time.perf_counter() - t0)
        size = sum(p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir())
    s, k = statistics.median(slim), statistics.median(skop)
    table = Table(title=f"push to a loopback registry: {label}, {size / 1e6:.2f} MB of blobs, median of {args.runs}")
    for col in ("tool", "push s", "vs slimgo"):
        table.add_column(col, justify="left" if col == "tool" else "right")
    table.add_row("slimgo (registry client)", f"{s:.3f}", "1.00×")
    table.add_row("skopeo copy oci: → docker://", f"{k:.3f}", f"{k / s:.2f}×")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
