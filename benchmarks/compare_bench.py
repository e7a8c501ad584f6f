"""Compare benchmark: wall time of a full `slimgo compare` on a real program, and the share spent in
`go build` (summed over variants, which build in parallel, so it is shown next to the build phase).

    python3 benchmarks/compare_bench.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import parts  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402


def main() -> int:
    console = Console(width=120)
    with tempfile.TemporaryDirectory(prefix="slimgo-cmpbench-") as tmp:
        label, src, pkg = parts.pick_program(Path(tmp) / "src")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "slimgo", "compare", pkg, "--port", "8080", "--json"], cwd=src,
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        console.print(proc.stderr[-2000:])
        return 1
    t = json.loads(proc.stdout)["timings_seconds"]
    table = Table(title=f"slimgo compare on {label} (full ladder, {len(json.loads(proc.stdout)['variants'])} variants)")
    for col in ("phase", "seconds", "share of wall"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    rows = [("wall time (process)", wall), ("build phase (parallel)", t["build"]),
            ("  go build, summed over variants", t["go_build"]), ("measure (chroot starts)", t["measure"]),
            ("engine checks (Docker)", t["checks"])]
    for name, sec in rows:
        table.add_row(name, f"{sec:.2f}", f"{100 * sec / wall:.0f}%")
    console.print(table)
    console.print(f"go build share of the build phase: {100 * min(t['go_build'], t['build']) / t['build']:.0f}% "
                  f"(summed go build time {t['go_build']:.1f}s over a {t['build']:.1f}s parallel phase)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
