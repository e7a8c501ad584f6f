"""Build benchmark (issue 12): bare `go build` vs slimgo vs ko vs `docker build`, on real programs.

    python3 benchmarks/build_bench.py [--programs httpbin,node_exporter,caddy] [--runs 3] [--cold-runs 1]
                                      [--skip cold,docker,ko]

Every tool builds the same vendored module copy with the same flags (CGO_ENABLED=0 -trimpath
-ldflags "-s -w", slimgo's defaults), each with its own Go build cache seeded from one warm cache, onto the same base
(slimgo's static base; pushed to a loopback registry for ko, loaded into the engine for the Dockerfile).
Three cases, tools rotated so that a burst of load on this shared machine does not hit one tool:

- cold (`--cold-runs` per tool, once by default; `--skip cold` leaves it out: caddy takes minutes per tool on
  2 cores): empty Go build cache and, for slimgo, an empty slimgo cache; the module cache stays warm (the
  module is vendored).
  `docker build` is not timed cold (emptying BuildKit's cache mount would empty everyone's);
- one file edited: a generated file in the main package gets a new string, so Go recompiles one package,
  relinks, and the binary changes (a comment would leave the binary identical);
- no change: the same build again (the binary is identical; slimgo reuses its compressed layer). Bare
  `go build` writes to the same `-o` path every round and slimgo keeps its link output in its cache, so Go
  finds both up to date and does not link; ko links into a new temporary directory every time.

The table prints medians, with ratios against bare `go build` and ko measured in the same rounds, and the
load average seen during the run. Bare `go build`'s cold build then seeds every tool's warm cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import parts  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from slimgo.oci import compress  # noqa: E402
from tests.support.registry import registry as local_registry  # noqa: E402

LDFLAGS = "-s -w"
PROGRAMS = parts.PROGRAMS
CASES = ("cold", "edit", "nochange")
WARM = ("edit", "nochange")
TOUCH_FILE = "zz_slimgo_bench_touch.go"


def touch(src: Path, pkg: str, n: int) -> None:
    """A real edit: a new string the program references, so the binary differs from the last build."""
    (src / pkg / TOUCH_FILE).write_text(
        f'package main\n\nvar slimgoBenchTouch = "edit {n}"\n\n'
        'func init() {\n\tif slimgoBenchTouch == "" {\n\t\tpanic(slimgoBenchTouch)\n\t}\n}\n')


@dataclass
class Tool:
    name: str
    run: Callable[[dict[str, str]], dict[str, float]]  # env overrides → wall and slimgo's own split
    times: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CASES})
    split: dict[str, list[float]] = field(default_factory=dict)
    compressed: int | None = None
    note: str = ""
    archive: Path | None = None  # the docker-archive it wrote, for the compressed size


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[dict[str, float], str]:
    """Wall seconds, and CPU seconds (user + system of the command and every process it waited for): on a
    shared machine the CPU time of a cold build barely moves with the load, the wall time does."""
    elapsed, cpu, proc = parts.run_timed(cmd, cwd, env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return {"wall": elapsed, "cpu": cpu}, proc.stdout


def go_env(work: Path, name: str) -> dict[str, str]:
    return {"GOCACHE": str(work / f"gocache-{name}"), "GOFLAGS": "-mod=vendor", "CGO_ENABLED": "0"}


def bare_go(src: Path, pkg: str, work: Path) -> Tool:
    env = go_env(work, "go")
    cmd = ["go", "build", "-trimpath", f"-ldflags={LDFLAGS}", "-o", str(work / "bare-go"), pkg]
    return Tool("bare go build", lambda extra: timed(cmd, src, {**env, **extra})[0])


def slimgo(src: Path, pkg: str, work: Path, library: str = compress.DEFAULT_LIBRARY) -> Tool:
    name = "slimgo" if library == compress.DEFAULT_LIBRARY else f"slimgo-{library}"
    env = {**go_env(work, name), "SLIMGO_CACHE": str(work / f"{name}-cache")}
    out = work / f"{name}.tar"
    cmd = [*parts.slimgo_command(), "build", pkg, "--json", "--tarball", str(out),
           "--gzip-library", library]

    def run(extra: dict[str, str]) -> dict[str, float]:
        took, stdout = timed(cmd, src, {**env, **extra})
        t = json.loads(stdout)["timings_seconds"]
        return {**took, "go_build": t.get("go_build", 0.0), "assemble": t.get("assemble", 0.0)}

    tool = Tool("slimgo build" if library == compress.DEFAULT_LIBRARY else f"slimgo build --gzip-library {library}", run)
    tool.note = "tarball output"
    tool.archive = out
    return tool


def ko(src: Path, pkg: str, work: Path, registry: str) -> Tool:
    ko_bin = shutil.which("ko") or str(work / "gobin" / "ko")
    if not Path(ko_bin).exists():
        parts.sh("go", "install", "github.com/google/ko@latest", env={"GOBIN": str(work / "gobin")})
    base_ref = f"{registry}/static:1"
    layout = parts.static_base_layout(work / "ko-base")
    parts.sh("skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout / 'layout'}:1", f"docker://{base_ref}")
    config = work / "ko-config"
    config.mkdir(exist_ok=True)
    (config / ".ko.yaml").write_text(f"defaultBaseImage: {base_ref}\nbuilds:\n- id: app\n  main: {pkg}\n"
                                     f"  flags: [-trimpath]\n  ldflags: [-s, -w]\n")
    env = {**go_env(work, "ko"), "KO_DOCKER_REPO": f"{registry}/ko", "KO_CONFIG_PATH": str(config)}
    cmd = [ko_bin, "build", pkg, "--push=false", "--tarball", str(work / "ko.tar"), "--insecure-registry",
           "--platform", "linux/amd64", "--sbom=none"]
    tool = Tool("ko build", lambda extra: timed(cmd, src, {**env, **extra})[0])
    tool.note = "tarball output; gzip BestSpeed (go-containerregistry)"
    tool.archive = work / "ko.tar"
    return tool


DOCKERFILE = """\
FROM {builder} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \\
    CGO_ENABLED=0 go build -trimpath -ldflags="{ldflags}" -o /out/app {pkg}

FROM {runtime}
COPY --from=build /out/app /app/app
ENTRYPOINT ["/app/app"]
"""


def docker(src: Path, pkg: str, work: Path) -> Tool:
    builder = parts.ensure_builder_image()
    runtime = parts.ensure_static_image(work / "static")
    dockerfile = work / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.format(builder=builder, runtime=runtime, pkg=pkg, ldflags=LDFLAGS))
    cmd = [parts.DOCKER, "build", "-q", "-f", str(dockerfile), "-t", "slimgo-perf-bench/docker-built:1", "."]
    tool = Tool("docker build (cache mount)",
                lambda extra: timed(cmd, src, {"DOCKER_BUILDKIT": "1"})[0])
    tool.note = "image in the engine (no export)"
    return tool


def measure(label: str, src: Path, pkg: str, work: Path, runs: int, skip: set[str], libraries: list[str],
            console: Console, loads: list[float], cold_runs: int = 1) -> list[Tool]:
    touch(src, pkg, 0)
    with local_registry(work / "registry") as registry:
        tools = [bare_go(src, pkg, work), slimgo(src, pkg, work)]
        tools += [slimgo(src, pkg, work, lib) for lib in libraries]
        if "ko" not in skip:
            tools.append(ko(src, pkg, work, registry))
        if "docker" not in skip:
            tools.append(docker(src, pkg, work))
        warm = work / "gocache-seed"
        if "cold" in skip or cold_runs == 0:
            timed(["go", "build", "-trimpath", f"-ldflags={LDFLAGS}", "-o", str(work / "seed"), pkg], src,
                  {**go_env(work, "seed"), "GOCACHE": str(warm)})
        else:
            cold(tools, work, warm, label, console, loads, cold_runs)
        for name in ("go", "slimgo", "ko", *(f"slimgo-{lib}" for lib in libraries)):
            shutil.copytree(warm, work / f"gocache-{name}", symlinks=True)
        for tool in tools:  # first build per tool: fills its own caches (slimgo's layer cache, ko's base)
            tool.run({})
        for r in range(runs):
            order = tools[r % len(tools):] + tools[:r % len(tools)]
            touch(src, pkg, r + 1)
            for case in WARM:
                for tool in order:
                    got = tool.run({})
                    tool.times[case].append(got.pop("wall"))
                    for k, v in got.items():
                        tool.split.setdefault(f"{case}:{k}", []).append(v)
                loads.append(os.getloadavg()[0])
            console.print(f"  {label}: round {r + 1}/{runs} done")
        for tool in tools:
            if tool.archive is not None and tool.archive.exists():
                tool.compressed = parts.docker_archive_sizes(tool.archive)[0]
    return tools


def cold(tools: list[Tool], work: Path, seed: Path, label: str, console: Console, loads: list[float],
         rounds: int = 1) -> None:
    """Each tool on empty caches (Go's build cache, slimgo's cache), `rounds` times with the order rotated;
    bare `go build`'s first becomes the seed of every warm cache. docker is left out (its cache mount is
    BuildKit's, shared by everyone here), and so are slimgo's --gzip-library variants (the compile is the
    same; their image work shows in the warm cases)."""
    timed_tools = [t for t in tools if not t.name.startswith(("docker", "slimgo build --gzip-library"))]
    for r in range(rounds):
        for tool in timed_tools[r % len(timed_tools):] + timed_tools[:r % len(timed_tools)]:
            fresh = work / f"cold-{len(tool.times['cold'])}-{tool.name.replace(' ', '_')}"
            first_bare = tool is tools[0] and not tool.times["cold"]
            env = {"GOCACHE": str(seed if first_bare else fresh / "gocache"), "SLIMGO_CACHE": str(fresh / "slimgo")}
            got = tool.run(env)
            tool.times["cold"].append(got.pop("wall"))
            for k, v in got.items():
                tool.split.setdefault(f"cold:{k}", []).append(v)
            loads.append(os.getloadavg()[0])
            console.print(f"  {label}: {tool.name} cold: {tool.times['cold'][-1]:.1f} s (round {r + 1}/{rounds})")
            shutil.rmtree(fresh, ignore_errors=True)


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def report(label: str, tools: list[Tool], console: Console) -> None:
    bare = tools[0]
    kot = next((t for t in tools if t.name.startswith("ko")), None)
    cases = [c for c in CASES if bare.times[c]]
    table = Table(title=f"{label}: wall time, medians (ratio to bare go build, and to ko, in the same rounds)")
    names = {"cold": "cold", "edit": "one file edited", "nochange": "no change"}
    for col in ("tool", *(names[c] for c in cases), "slimgo: go build / image (per case)", "compressed image"):
        table.add_column(col, justify="left" if col == "tool" else "right")
    for t in tools:
        cells = []
        for case in cases:
            if not t.times[case]:
                cells.append("-")
                continue
            m = med(t.times[case])
            cell = f"{m:.2f} s"
            if t is not bare:
                cell += f" ({m / med(bare.times[case]):.2f}×"
                if kot is not None and t is not kot and kot.times[case]:
                    cell += f", ko {m / med(kot.times[case]):.2f}×"
                cell += ")"
            if case == "cold":
                c = med(t.split["cold:cpu"])
                cell += f"; CPU {c:.1f} s" + ("" if t is bare else f" ({c / med(bare.split['cold:cpu']):.2f}×)")
            cells.append(cell)
        split = "-"
        if t.split:
            split = " | ".join(f"{med(t.split[f'{c}:go_build']):.2f} / {med(t.split[f'{c}:assemble']):.2f}"
                               for c in cases if f"{c}:go_build" in t.split)
        size = f"{t.compressed / 2**20:.2f} MiB" if t.compressed else "-"
        table.add_row(t.name, *cells, split or "-", size)
    console.print(table)
    for slim in (t for t in tools if t.name.startswith("slimgo")):
        console.print(f"  {slim.name}:")
        if slim.times["cold"]:
            c_ratio = med(slim.split["cold:cpu"]) / med(bare.split["cold:cpu"])
            w_ratio = med(slim.times["cold"]) / med(bare.times["cold"])
            console.print(f"    target cold ≤ 1.05× bare go build: CPU {c_ratio:.2f}× "
                          f"({'holds' if c_ratio <= 1.05 else 'does NOT hold'}), wall {w_ratio:.2f}×")
        e_ratio = med(slim.times["edit"]) / med(bare.times["edit"])
        n_extra = med(slim.times["nochange"]) - med(bare.times["nochange"])
        console.print(f"    target one-file edit ≤ 1.10× bare go build: {e_ratio:.2f}× "
                      f"({'holds' if e_ratio <= 1.10 else 'does NOT hold'})")
        console.print(f"    target no change ≤ bare go build + 0.1 s: {n_extra:+.2f} s "
                      f"({'holds' if n_extra <= 0.1 else 'does NOT hold'})")
        if kot is None:
            continue
        for case in (c for c in cases if slim.times[c] and kot.times[c]):
            s, k = med(slim.times[case]), med(kot.times[case])
            console.print(f"    {case}: {s:.2f} s vs ko {k:.2f} s ({'faster' if s < k else 'NOT faster'})")
        if slim.compressed and kot.compressed:
            console.print(f"    compressed: {slim.compressed} B vs ko {kot.compressed} B "
                          f"({slim.compressed / kot.compressed:.3f}×)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", default="httpbin", help="comma-separated: " + ",".join(PROGRAMS))
    ap.add_argument("--runs", type=int, default=3, help="rounds per program (medians reported)")
    ap.add_argument("--skip", default="", help="comma-separated: cold,docker,ko (cold is the slow one)")
    ap.add_argument("--cold-runs", type=int, default=1, help="cold builds per tool (medians reported; each is "
                    "a whole compile from empty caches)")
    ap.add_argument("--raw", type=Path, help="also write every measurement to this JSON file")
    ap.add_argument("--gzip-library", default="", help="also time slimgo with these libraries (e.g. zlib,isal)")
    args = ap.parse_args()
    console = Console(width=200, stderr=False)
    skip = set(filter(None, args.skip.split(",")))
    load = os.getloadavg()
    console.print(f"go {parts.sh('go', 'env', 'GOVERSION').stdout.strip()}; {os.cpu_count()} cores; "
                  f"load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    results = []
    loads: list[float] = []
    for name in filter(None, args.programs.split(",")):
        module, version, pkg = PROGRAMS[name]
        with tempfile.TemporaryDirectory(prefix="slimgo-bench-") as tmp:
            work = Path(tmp)
            src = parts.module_source(module, version, work / "src")
            if src is None:
                console.print(f"{name}: the module proxy does not serve {module}@{version}: skipped")
                continue
            libraries = [lib for lib in args.gzip_library.split(",") if lib]
            results.append((f"{name} ({module}@{version})",
                            measure(name, src, pkg, work, args.runs, skip, libraries, console, loads,
                                    args.cold_runs)))
    if args.raw:
        args.raw.write_text(json.dumps({label: {t.name: {"times": t.times, "split": t.split, "compressed": t.compressed}
                                                for t in tools} for label, tools in results}, indent=1))
    for label, tools in results:
        report(label, tools, console)
    load = os.getloadavg()
    console.print(f"load average at end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; 1-minute load during "
                  f"the runs {min(loads, default=0):.1f}–{max(loads, default=0):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
