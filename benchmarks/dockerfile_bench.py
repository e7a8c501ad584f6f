"""Dockerfile variants benchmark: the images `slimgo dockerfile` writes for examples/hello, built by the
local engine, next to `slimgo build`'s image of the same program (the peer, built in the same run).

    python3 benchmarks/dockerfile_bench.py [--runs N]

Each variant (default, --base scratch, --upx, --debug) is built on the local stand-ins (see
tests/support/images.py) and measured: pull size (compressed layers, as `docker push` would send them),
unpacked size, and the median wall time of `docker run --rm IMAGE -check` over N runs (container start,
program start and exit; not for the debug image, whose headless dlv keeps serving after the program
exits). UPX comes from $SLIMGO_UPX,
PATH or ../shared/tools/upx/upx; Delve's modules from the host's module cache.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from parts import DOCKER, docker_archive_sizes  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from slimgo.dockerfile.generate import DELVE_VERSION  # noqa: E402
from tests.support.images import (  # noqa: E402
    builder_with_proxy,
    delve_proxy,
    docker_build,
    ensure_builder_image,
    ensure_static_image,
    find_upx,
    image_exists,
    serve_on_bridge,
    upx_release,
)

REPO = Path(__file__).resolve().parent.parent
HELLO = REPO / "examples" / "hello"
BUILDER, STATIC = "slimgo-bench/df-gobuilder:1", "slimgo-bench/df-static:1"
MIB = 1024 * 1024


def slimgo(*args: str | Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "slimgo", *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"slimgo {' '.join(map(str, args))}: {proc.stderr[-2000:]}")


def run_median(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sizes(tag: str, work: Path) -> tuple[int, int]:
    archive = work / "image.tar"
    subprocess.run([DOCKER, "save", "-o", str(archive), tag], check=True)
    try:
        return docker_archive_sizes(archive)
    finally:
        archive.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    upx = find_upx(REPO.parent / "shared" / "tools" / "upx" / "upx")
    made = [tag for tag in (BUILDER, STATIC) if not image_exists(tag)]  # removed at the end if made here
    builder, static = ensure_builder_image(BUILDER), ensure_static_image(STATIC)
    rows: list[tuple[str, int, int, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="slimgo-dfbench-") as tmp:
        work = Path(tmp)
        # The peer: slimgo build's image of the same program.
        slimgo("build", HELLO, "--tarball", work / "sg.tar", "--tag", "slimgo-bench/df-peer:1", "--no-reference")
        subprocess.run([DOCKER, "load", "-i", str(work / "sg.tar")], check=True, capture_output=True)
        made.append("slimgo-bench/df-peer:1")
        peer = docker_archive_sizes(work / "sg.tar")
        rows.append(("slimgo build (peer)", *peer, run_median([DOCKER, "run", "--rm", made[-1], "-check"], args.runs)))
        release = work / "release"
        release.mkdir()
        variants: list[tuple[str, list[str]]] = [("dockerfile", []), ("dockerfile --base scratch", ["--base", "scratch"]),
                                                  ("dockerfile --debug --debug-continue", ["--debug", "--debug-continue"])]
        if upx is not None:
            variants.insert(2, ("dockerfile --upx", ["--upx"]))
        upx_version = subprocess.run([str(upx), "--version"], capture_output=True, text=True).stdout.split()[1] if upx else ""
        upx_sum = upx_release(upx, upx_version, release) if upx else ""
        with serve_on_bridge(release) as upx_url, serve_on_bridge(delve_proxy("go", DELVE_VERSION)) as proxy:
            proxy_builder = builder_with_proxy(builder, proxy, "slimgo-bench/df-builder-proxy:1")
            made.append(proxy_builder)
            for i, (name, flags) in enumerate(variants):
                src = work / f"v{i}"
                shutil.copytree(HELLO, src)
                slimgo("dockerfile", src, *flags)
                build_args = {"BUILDER_IMAGE": proxy_builder if "--debug" in flags else builder}
                if "--base" not in flags:
                    build_args["RUNTIME_IMAGE"] = static
                if "--upx" in flags:
                    build_args |= {"UPX_IMAGE": builder, "UPX_VERSION": upx_version, "UPX_URL": upx_url,
                                   "UPX_SHA256_AMD64": upx_sum}
                tag = f"slimgo-bench/df-v{i}:1"
                proc = docker_build(src, tag, src / "Dockerfile", build_args)
                if proc.returncode != 0:
                    raise RuntimeError(f"{name}: {proc.stderr[-2000:]}")
                made.append(tag)
                secs = None if "--debug" in flags else run_median([DOCKER, "run", "--rm", tag, "-check"], args.runs)
                rows.append((name, *sizes(tag, work), secs))
    subprocess.run([DOCKER, "rmi", "-f", *made], capture_output=True)
    default = next(r for r in rows if r[0] == "dockerfile")
    table = Table(title=f"examples/hello, median of {args.runs} runs; ratios against `dockerfile` (default)")
    for col in ("image", "pull MiB", "vs default", "unpacked MiB", "run -check s", "vs default"):
        table.add_column(col, justify="left" if col == "image" else "right")
    for name, comp, unpacked, secs in rows:
        base_secs = default[3] or 1.0
        table.add_row(name, f"{comp / MIB:.2f}", f"{comp / default[1]:.2f}x", f"{unpacked / MIB:.2f}",
                      "n/a" if secs is None else f"{secs:.3f}", "" if secs is None else f"{secs / base_secs:.2f}x")
    Console(width=120).print(table)
    if upx is None:
        print("UPX not found: the --upx row is missing (set SLIMGO_UPX)")


if __name__ == "__main__":
    main()
