"""Debug image benchmark: go-httpbin as a release image and as `--debug` images, sizes and start-up.

    python3 benchmarks/debug_bench.py [--runs N]

Three images of the same program, built by slimgo in this run: the release image (the peer), `--debug`
(Delve waits for a client) and `--debug-continue` (the program starts at once under Delve). Start-up is
`docker run` until the program answers HTTP (release, debug-continue) or until Delve's server is listening
(debug, which waits for a client by design); medians of N runs on this machine. Ratios are against the
release image measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.support, shared with the tests

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.support.container import run_container  # noqa: E402

DOCKER = "/usr/bin/docker"
HTTPBIN = "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0"
VARIANTS = {"release": (), "debug": ("--debug",), "debug-continue": ("--debug-continue",)}


def build(name: str, flags: tuple[str, ...], work: Path) -> dict:
    tarball = work / f"{name}.tar"
    tag = f"slimgo-bench/httpbin-{name}:1"
    proc = subprocess.run([sys.executable, "-m", "slimgo", "build", HTTPBIN, *flags, "--tag", tag,
                           "--tarball", str(tarball), "--json"], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"slimgo build {name} failed:\n{proc.stderr[-2000:]}")
    subprocess.run([DOCKER, "load", "-i", str(tarball)], check=True, capture_output=True, timeout=300)
    return {**json.loads(proc.stdout), "tag": tag}


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/get", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return False


def start_up(tag: str, wait_for_debugger: bool, timeout: float = 60) -> float:
    """Seconds from `docker run` to the readiness event: HTTP 200, or Delve's listening line."""
    t0 = time.perf_counter()
    with run_container(tag, ports=(8080, 2345) if wait_for_debugger else (8080,), prefix="slimgo-bench") as c:
        if wait_for_debugger:
            c.wait_log(r"API server listening at", timeout)
            return time.perf_counter() - t0
        deadline = t0 + timeout
        while time.perf_counter() < deadline:  # a readiness probe: the measured event is the first 200
            if _answers(c.ports[8080]):
                return time.perf_counter() - t0
            time.sleep(0.005)
    raise RuntimeError(f"{tag} did not become ready within {timeout}s")


def mib(n: int) -> str:
    return f"{n / (1 << 20):.2f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="slimgo-debug-bench-") as tmp:
        try:
            for name, flags in VARIANTS.items():
                t0 = time.perf_counter()
                doc = build(name, flags, Path(tmp))
                doc["build_s"] = time.perf_counter() - t0
                doc["start_s"] = statistics.median(start_up(doc["tag"], name == "debug") for _ in range(args.runs))
                results[name] = doc
        finally:
            for name in VARIANTS:
                subprocess.run([DOCKER, "rmi", "-f", f"slimgo-bench/httpbin-{name}:1"], capture_output=True)
    peer = results["release"]
    table = Table(title=f"go-httpbin v2.26.0: release vs debug images (median of {args.runs} starts)",
                  title_justify="left")
    for col in ("image", "binary", "compressed", "× release", "uncompressed", "start-up", "× release", "ready when",
                "build (Delve cached)"):
        table.add_column(col, justify="left" if col in ("image", "ready when") else "right")
    for name, doc in results.items():
        table.add_row(name, mib(doc["binary_bytes"]), mib(doc["compressed_bytes"]),
                      f"{doc['compressed_bytes'] / peer['compressed_bytes']:.2f}", mib(doc["uncompressed_bytes"]),
                      f"{doc['start_s'] * 1000:.0f} ms", f"{doc['start_s'] / peer['start_s']:.2f}",
                      "Delve listening" if name == "debug" else "HTTP 200", f"{doc['build_s']:.1f} s")
    Console(width=160).print(table)
    delve = next(layer for layer in results["debug"]["layers"] if layer["comment"].startswith("delve"))
    Console(width=160).print(f"Delve layer: {mib(delve['compressed_bytes'])} compressed, {mib(delve['uncompressed_bytes'])} "
                    f"uncompressed ({delve['digest'][:19]}…, shared by every debug image on this platform)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
