"""Real parts the benchmarks stand up: a Go module checkout, local builder/runtime images, a registry.

Nothing here reaches a registry on the network. The builder image is made from the host's Go toolchain
plus a static busybox shell, and the runtime image is slimgo's own static base. Both are loaded into the
local engine, so `docker build` runs offline.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.support, shared with the tests

DOCKER = "/usr/bin/docker"
WHOAMI = ("github.com/traefik/whoami", "v1.10.3", ".")
HTTPBIN = ("github.com/mccutchen/go-httpbin/v2", "v2.26.0", "./cmd/go-httpbin")
PROGRAMS = {  # the real programs of issue 12's measurements: (module, version, main package)
    "httpbin": HTTPBIN,
    "node_exporter": ("github.com/prometheus/node_exporter", "v1.12.1", "."),
    "caddy": ("github.com/caddyserver/caddy/v2", "v2.11.9", "./cmd/caddy"),
}
BUILDER_TAG = "slimgo-bench/gobuilder:1"
STATIC_TAG = "slimgo-bench/static:1"


def sh(*cmd: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
       check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr[-3000:]}")
    return proc


def module_source(module: str, version: str, dest: Path) -> Path | None:
    """A writable copy of a module version from the proxy, vendored so container builds run offline."""
    proc = sh("go", "mod", "download", "-json", f"{module}@{version}", cwd=Path("/"), check=False)
    if proc.returncode != 0:
        return None
    src = Path(json.loads(proc.stdout)["Dir"])
    shutil.copytree(src, dest)
    for root, dirs, files in os.walk(dest):
        for name in dirs + files:
            p = Path(root, name)
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
    dest.chmod(dest.stat().st_mode | stat.S_IWUSR)
    sh("go", "mod", "vendor", cwd=dest)
    return dest


def install_program(name: str, gobin: Path) -> Path:
    """One of PROGRAMS built as a release would be (static, trimmed paths, stripped) with `go install`
    from the module proxy: no checkout, and the shared Go caches make a rebuild cheap."""
    module, version, pkg = PROGRAMS[name]
    target = module if pkg == "." else f"{module}/{pkg.removeprefix('./')}"
    sh("go", "install", "-trimpath", "-ldflags", "-s -w", f"{target}@{version}", cwd=Path("/"),
       env={"GOBIN": str(gobin), "CGO_ENABLED": "0"})
    return gobin / target.rsplit("/", 1)[-1]


def pick_program(work: Path) -> tuple[str, Path, str]:
    """whoami when the module proxy serves it, else go-httpbin; returns (label, module dir, package)."""
    for module, version, pkg in (WHOAMI, HTTPBIN):
        src = module_source(module, version, work / module.rsplit("/", 1)[-1])
        if src is not None:
            return f"{module}@{version}", src, pkg
    raise RuntimeError("the module proxy serves neither whoami nor go-httpbin")


def image_exists(tag: str) -> bool:
    return sh(DOCKER, "image", "inspect", tag, check=False).returncode == 0


def ensure_builder_image() -> str:
    """The shared test builder image, with GOFLAGS=-mod=vendor: the benchmark's module is vendored."""
    from tests.support.images import ensure_builder_image as ensure

    return ensure(BUILDER_TAG, {"GOFLAGS": "-mod=vendor"})


def static_base_layout(dest: Path) -> Path:
    """slimgo's static base as an OCI layout + docker-archive, for the peers to build on."""
    from slimgo.base.resolve import static_image
    from slimgo.base.static import StaticBaseSpec
    from slimgo.oci.reference import Reference
    from slimgo.sinks.archive import write_archive
    from slimgo.sinks.content import Published
    from slimgo.sinks.layout import write_layout

    platform = {"architecture": "amd64", "os": "linux"}
    image = static_image(StaticBaseSpec(), platform, dest / "blobs", None, "gzip", 6)
    pub = Published(image, (Reference.parse(STATIC_TAG),))
    write_layout(dest / "layout", pub)
    write_archive(dest / "static.tar", pub, "amd64")
    return dest


def ensure_static_image(work: Path) -> str:
    static_base_layout(work)
    sh(DOCKER, "load", "-i", work / "static.tar")
    return STATIC_TAG


def docker_archive_sizes(archive: Path) -> tuple[int, int]:
    """(compressed, uncompressed) bytes of the image in a docker-archive.

    Layers stored uncompressed (docker save) are gzip -6 compressed here, as `docker push` would
    compress them. Layers already gzip-compressed (ko, slimgo) are counted as they are.
    """
    import gzip
    import zlib

    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())[0]  # type: ignore[union-attr]
        config = tar.extractfile(manifest["Config"]).read()  # type: ignore[union-attr]
        compressed = len(config)
        uncompressed = 0
        for name in manifest["Layers"]:
            data = tar.extractfile(name).read()  # type: ignore[union-attr]
            if data[:2] == b"\x1f\x8b":
                compressed += len(data)
                uncompressed += len(gzip.decompress(data))
            else:
                comp = zlib.compressobj(6, zlib.DEFLATED, 31)
                compressed += len(comp.compress(data) + comp.flush())
                uncompressed += len(data)
    return compressed, uncompressed


def measure(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes, from wait4) of one command run as its own process; `ok` lists the
    exit codes that count as a run (a CI mode that fails on purpose still measured its work)."""
    elapsed, rss, _cpu = measure_cpu(cmd, ok)
    return elapsed, rss


def measure_cpu(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, int, float]:
    """`measure`, plus the process's CPU seconds (user + system, from wait4): on a loaded machine the CPU
    time moves less than the wall time, and a multi-threaded peer's wall time can be less than its CPU time."""
    import time

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, rusage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in ok:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
    return elapsed, rusage.ru_maxrss * 1024, rusage.ru_utime + rusage.ru_stime


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds, CPU seconds (user + system of the command and every process it waited for) and the
    finished process, output captured: on a shared machine the CPU time of a build barely moves with the
    load, the wall time does. The caller decides what a failure means."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def slimgo_command() -> list[str]:
    """slimgo as people run it: the installed script, its modules byte-compiled (pip does that on install;
    an editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile every changed module on every run)."""
    import compileall

    import slimgo

    compileall.compile_dir(Path(slimgo.__file__).parent, quiet=1)
    script = Path(sys.executable).parent / "slimgo"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "slimgo"]
