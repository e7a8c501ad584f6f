"""Build benchmark: slimgo vs `docker build` (BuildKit, multi-stage) vs ko, on a real program.

    python3 benchmarks/build_bench.py [--runs N]

Each tool does a cold build (empty Go build cache, empty tool caches) and then warm rebuilds after one
source file is touched. All three use the same flags (CGO_ENABLED=0 -trimpath -ldflags "-s -w -buildid=")
and the same base (slimgo's static base, loaded into Docker for the Dockerfile and pushed to a loopback
registry for ko). The table prints medians and ratios against slimgo, all measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import parts  # noqa: E402
from tests.support.registry import registry as local_registry  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

FLAGS = ["-trimpath", "-ldflags=-s -w -buildid="]


@dataclass
class Result:
    tool: str
    cold: float | None = None
    warm: list[float] = field(default_factory=list)
    go_build_warm: list[float] = field(default_factory=list)
    compressed: int | None = None
    uncompressed: int | None = None
    note: str = ""

    @property
    def warm_median(self) -> float | None:
        return statistics.median(self.warm) if self.warm else None

    @property
    def assembly_median(self) -> float | None:
        if not self.go_build_warm:
            return None
        return statistics.median(w - g for w, g in zip(self.warm, self.go_build_warm))


def touch_source(src: Path, pkg: str, n: int) -> None:
    """Change one source file's content (a comment), so Go recompiles one package and relinks."""
    main_dir = src / pkg
    target = sorted(p for p in main_dir.glob("*.go") if not p.name.endswith("_test.go"))[0]
    with open(target, "a") as fh:
        fh.write(f"\n// slimgo benchmark touch {n}\n")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return elapsed, proc


def bench_slimgo(src: Path, pkg: str, work: Path, runs: int) -> Result:
    res = Result("slimgo build")
    env = {"GOCACHE": str(work / "gocache-slimgo"), "SLIMGO_CACHE": str(work / "slimgo-cache"), "GOFLAGS": "-mod=vendor"}
    cmd = [sys.executable, "-m", "slimgo", "build", pkg, "--no-reference", "--json", "--tarball", str(work / "slimgo.tar")]
    res.cold, _ = timed(cmd, src, env)
    for i in range(runs):
        touch_source(src, pkg, i)
        elapsed, proc = timed(cmd, src, env)
        doc = json.loads(proc.stdout)
        res.warm.append(elapsed)
        res.go_build_warm.append(doc["timings_seconds"]["go_build"])
    res.compressed, res.uncompressed = parts.docker_archive_sizes(work / "slimgo.tar")
    return res


DOCKERFILE = """\
FROM {builder} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \\
    CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags="-s -w -buildid=" -o /out/app {pkg}

FROM {runtime}
COPY --from=build /out/app /app/app
USER 65532:65532
ENTRYPOINT ["/app/app"]
"""


def bench_docker(src: Path, pkg: str, work: Path, runs: int, cache_mount: bool = True) -> Result:
    res = Result("docker build (BuildKit, cache mount)" if cache_mount else "docker build (no cache mount)")
    builder = parts.ensure_builder_image()
    runtime = parts.ensure_static_image(work / "static")
    dockerfile = work / "Dockerfile"
    text = DOCKERFILE.format(builder=builder, runtime=runtime, pkg=pkg)
    if not cache_mount:
        text = text.replace("RUN --mount=type=cache,target=/root/.cache/go-build \\\n    ", "RUN ")
    dockerfile.write_text(text)
    tag = "slimgo-bench/docker-built:1"
    cmd = [parts.DOCKER, "build", "-q", "-f", str(dockerfile), "-t", tag, "."]
    env = {"DOCKER_BUILDKIT": "1"}
    parts.sh(parts.DOCKER, "builder", "prune", "-af")
    res.cold, _ = timed(cmd, src, env)
    for i in range(runs):
        touch_source(src, pkg, 100 + i)
        elapsed, _ = timed(cmd, src, env)
        res.warm.append(elapsed)
    parts.sh(parts.DOCKER, "save", "-o", work / "docker-built.tar", tag)
    res.compressed, res.uncompressed = parts.docker_archive_sizes(work / "docker-built.tar")
    res.note = "sizes: docker save layers gzip -6 (as docker push)"
    return res


def find_ko(work: Path) -> str | None:
    ko = shutil.which("ko")
    if ko:
        return ko
    gobin = work / "gobin"
    proc = subprocess.run(["go", "install", "github.com/google/ko@latest"], env={**os.environ, "GOBIN": str(gobin)},
                          capture_output=True, text=True)
    return str(gobin / "ko") if proc.returncode == 0 else None


def bench_ko(src: Path, pkg: str, work: Path, runs: int) -> Result:
    res = Result("ko build")
    ko = find_ko(work)
    if ko is None:
        res.note = "ko did not install (go install github.com/google/ko@latest failed)"
        return res
    layout = parts.static_base_layout(work / "ko-base")
    with local_registry(work / "registry") as registry:
        base_ref = f"{registry}/static:1"
        parts.sh("skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout / 'layout'}:1", f"docker://{base_ref}")
        env = {"GOCACHE": str(work / "gocache-ko"), "KO_DEFAULTBASEIMAGE": base_ref,
               "KO_DOCKER_REPO": f"{registry}/ko", "KO_CONFIG_PATH": str(work / "ko-config"),
               "GOFLAGS": "-mod=vendor -ldflags=-s -ldflags=-w", "CGO_ENABLED": "0"}
        (work / "ko-config").mkdir(exist_ok=True)
        (work / "ko-config" / ".ko.yaml").write_text(
            f"defaultBaseImage: {base_ref}\nbuilds:\n- id: app\n  main: {pkg}\n  flags: [-trimpath]\n"
            "  ldflags: [-s, -w, -buildid=]\n")
        cmd = [ko, "build", pkg, "--push=false", "--tarball", str(work / "ko.tar"), "--insecure-registry",
               "--platform", "linux/amd64"]
        res.cold, _ = timed(cmd, src, env)
        for i in range(runs):
            touch_source(src, pkg, 200 + i)
            elapsed, _ = timed(cmd, src, env)
            res.warm.append(elapsed)
    res.compressed, res.uncompressed = parts.docker_archive_sizes(work / "ko.tar")
    res.note = "ko's gzip level (go-containerregistry default)"
    return res


def fmt_s(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def fmt_mb(v: int | None) -> str:
    return "-" if v is None else f"{v / 1e6:.2f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="warm rebuilds per tool (median reported)")
    ap.add_argument("--skip", default="", help="comma-separated: docker,docker-nocache,ko")
    args = ap.parse_args()
    console = Console(width=170)
    skip = set(filter(None, args.skip.split(",")))
    with tempfile.TemporaryDirectory(prefix="slimgo-bench-") as tmp:
        work = Path(tmp)
        label, src, pkg = parts.pick_program(work / "src")
        console.print(f"[bold]program[/]: {label} ({pkg}); go {parts.sh('go', 'env', 'GOVERSION').stdout.strip()}; "
                      f"{os.cpu_count()} cores")
        results = [bench_slimgo(src, pkg, work, args.runs)]
        if "docker" not in skip:
            results.append(bench_docker(src, pkg, work, args.runs))
        if "docker-nocache" not in skip:
            results.append(bench_docker(src, pkg, work, args.runs, cache_mount=False))
        if "ko" not in skip:
            results.append(bench_ko(src, pkg, work, args.runs))
    ref = results[0]
    table = Table(title="build benchmark (seconds are wall time; medians of warm runs)")
    for col in ("tool", "cold s", "warm rebuild s", "warm vs slimgo", "assembly s", "compressed", "uncompressed",
                "compressed vs slimgo", "note"):
        table.add_column(col, justify="left" if col in ("tool", "note") else "right")
    for r in results:
        ratio = (f"{r.warm_median / ref.warm_median:.2f}×" if r.warm_median and ref.warm_median else "-")
        cratio = (f"{r.compressed / ref.compressed:.3f}×" if r.compressed and ref.compressed else "-")
        table.add_row(r.tool, fmt_s(r.cold), fmt_s(r.warm_median), ratio, fmt_s(r.assembly_median),
                      fmt_mb(r.compressed), fmt_mb(r.uncompressed), cratio, r.note)
    console.print(table)
    docker = next((r for r in results if r.tool.startswith("docker build (BuildKit") and r.warm_median), None)
    ko = next((r for r in results if r.tool.startswith("ko") and r.compressed), None)
    console.print("targets:")
    if docker:
        console.print(f"  warm rebuild ≥ 3× faster than docker build with a go-build cache mount: "
                      f"{docker.warm_median / ref.warm_median:.1f}× ({'met' if docker.warm_median >= 3 * ref.warm_median else 'NOT met'})")
    console.print(f"  image assembly < 0.5 s: {ref.assembly_median:.3f} s "
                  f"({'met' if ref.assembly_median < 0.5 else 'NOT met'})")
    if ko:
        console.print(f"  compressed image smaller than ko's: {ref.compressed} vs {ko.compressed} bytes "
                      f"({'met' if ref.compressed < ko.compressed else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
