"""Monorepo benchmark: `slimgo build ./...` vs `ko build ./...`, N services, two platforms, one registry.

    python3 benchmarks/monorepo_bench.py [--services 20] [--skip ko] [--no-jobs-sweep]

A generated module of N main packages sharing an internal package and two real dependencies from the Go
module proxy (golang.org/x/text, golang.org/x/sync). Each tool builds linux/amd64 + linux/arm64 and pushes
every image to a loopback registry (Debian's docker-registry) through a byte-counting TCP proxy:

- cold: empty Go build cache and empty tool caches, a fresh repository prefix;
- warm: the same again after one service's source changed (caches and registry contents kept).

Measured per run: wall time, CPU time (user+sys of the tool and every process it waited for), bytes sent to
the registry (every byte of every request through the proxy), registry requests (the registry's access
log). ko builds on slimgo's static base (pushed once, as a two-platform index, before timing) with the same
flags (-trimpath, -s -w -buildid=). A jobs sweep (slimgo's default pool against --jobs 1, cold and warm) measures the pool size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.support.monorepo import write_monorepo  # noqa: E402
from tests.support.registry import REGISTRY_BIN, _wait_port, free_port  # noqa: E402

KO_VERSION = "v0.17.1"
PLATFORMS = "linux/amd64,linux/arm64"
REQUIRES = ("golang.org/x/text@v0.21.0", "golang.org/x/sync@v0.8.0")
IMPORTS = ("golang.org/x/text/language", "golang.org/x/sync/errgroup")
_REQUEST = re.compile(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2/')


@dataclass
class Run:
    tool: str
    phase: str
    wall: float
    cpu: float
    sent: int
    requests: int
    images: int


class CountingProxy:
    """A loopback TCP relay that counts the bytes clients send (request lines, headers and bodies)."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.sent = 0
        self._lock = threading.Lock()

    def _pipe(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        try:
            while data := src.recv(65536):
                if count:
                    with self._lock:
                        self.sent += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    @contextlib.contextmanager
    def run(self) -> Iterator[str]:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)

        def accept() -> None:
            while True:
                try:
                    client, _ = listener.accept()
                except OSError:
                    return
                server = socket.create_connection(("127.0.0.1", self.upstream))
                threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
                threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        try:
            yield f"127.0.0.1:{self.port}"
        finally:
            listener.close()


@contextlib.contextmanager
def logged_registry(work: Path) -> Iterator[tuple[int, Path]]:
    """docker-registry with its access log on: one line per request, counted per run."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "registry.yml"
    cfg.write_text("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n"
                   f"    rootdirectory: {work / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    log = work / "access.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(cfg)], stdout=fh, stderr=fh)
        try:
            _wait_port(port)
            yield port, log
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def requests_in(log: Path) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines() if _REQUEST.search(line))


def measure(tool: str, phase: str, cmd: list[str], cwd: Path, env: dict[str, str], proxy: CountingProxy,
            log: Path) -> tuple[Run, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sent0, req0 = proxy.sent, requests_in(log)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} {phase} failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    images = sum(1 for line in proc.stdout.splitlines() if "@sha256:" in line)
    print(f"{tool} {phase}: {wall:.1f} s wall, {cpu:.1f} s CPU, {proxy.sent - sent0} bytes sent, "
          f"{requests_in(log) - req0} requests, {images} images", file=sys.stderr, flush=True)
    return Run(tool, phase, wall, cpu, proxy.sent - sent0, requests_in(log) - req0, images), proc.stdout


def push_base(work: Path, registry: str) -> str:
    """slimgo's static base for both platforms, as one index, for ko's defaultBaseImage."""
    from slimgo.base.resolve import static_image
    from slimgo.base.static import StaticBaseSpec
    from slimgo.oci.model import make_index
    from slimgo.oci.reference import Reference
    from slimgo.sinks.content import Published
    from slimgo.sinks.layout import write_layout

    images = [static_image(StaticBaseSpec(), {"architecture": arch, "os": "linux"}, work / "blobs", None, "gzip", 6)
              for arch in ("amd64", "arm64")]
    write_layout(work / "layout", Published(make_index(images), (Reference.parse("static:1"),)))
    ref = f"{registry}/base/static:1"
    subprocess.run(["skopeo", "copy", "--all", "--dest-tls-verify=false", f"oci:{work / 'layout'}:1",
                    f"docker://{ref}"], check=True, capture_output=True)
    return ref


def find_ko(work: Path) -> str | None:
    if shutil.which("ko"):
        return shutil.which("ko")
    gobin = work / "gobin"
    proc = subprocess.run(["go", "install", f"github.com/google/ko@{KO_VERSION}"], capture_output=True, text=True,
                          env={**os.environ, "GOBIN": str(gobin)})
    return str(gobin / "ko") if proc.returncode == 0 else None


def touch(src: Path, n: int) -> None:
    with open(src / "cmd" / "svc00" / "main.go", "a") as fh:
        fh.write(f"\nvar touched{n} = {n}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--skip", default="", help="ko")
    ap.add_argument("--no-jobs-sweep", action="store_true")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))  # unwind: the registry stops, the temp dir goes
    console = Console(width=150)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="slimgo-monobench-") as tmp:
        work = Path(tmp)
        src = write_monorepo(work / "src", [f"svc{i:02d}" for i in range(args.services)], requires=REQUIRES,
                             imports=IMPORTS, module="example.com/monobench")
        ko = None if "ko" in args.skip else find_ko(work)
        with logged_registry(work / "registry") as (port, log):
            proxy = CountingProxy(port)
            with proxy.run() as reg:
                base_ref = push_base(work / "base", reg)

                def slimgo_env(name: str) -> dict[str, str]:
                    return {"GOCACHE": str(work / f"gocache-{name}"), "SLIMGO_CACHE": str(work / f"cache-{name}"),
                            "GOFLAGS": "-mod=mod"}

                def slimgo_cmd(prefix: str, jobs: int | None) -> list[str]:  # None: slimgo's default
                    return [sys.executable, "-m", "slimgo", "build", "./...", "--platform", PLATFORMS,
                            "--push", f"{reg}/{prefix}", *(["--jobs", str(jobs)] if jobs else [])]

                if not args.no_jobs_sweep:
                    r, _ = measure("slimgo --jobs 1", "cold", slimgo_cmd("j1", 1), src, slimgo_env("j1"), proxy, log)
                    runs.append(r)
                r, _ = measure("slimgo", "cold", slimgo_cmd("slimgo", None), src, slimgo_env("s"), proxy, log)
                runs.append(r)
                touch(src, 1)
                r, _ = measure("slimgo", "warm", slimgo_cmd("slimgo", None), src, slimgo_env("s"), proxy, log)
                runs.append(r)
                if not args.no_jobs_sweep:
                    touch(src, 3)
                    r, _ = measure("slimgo --jobs 1", "warm", slimgo_cmd("slimgo", 1), src, slimgo_env("s"), proxy, log)
                    runs.append(r)
                if ko is not None:
                    cfg = work / "ko-config"
                    cfg.mkdir()
                    (cfg / ".ko.yaml").write_text(f"defaultBaseImage: {base_ref}\ndefaultFlags: [-trimpath]\n"
                                                  "defaultLdflags: [-s, -w, -buildid=]\n")
                    ko_env = {"GOCACHE": str(work / "gocache-ko"), "KO_DOCKER_REPO": f"{reg}/ko",
                              "KO_CONFIG_PATH": str(cfg), "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
                    # ko v0.17 refuses a `./...` pattern here ("found N local packages, expected 1"): it is
                    # given the same main packages, listed by `go list`, as arguments.
                    dirs = subprocess.run(["go", "list", "-f", "{{if eq .Name \"main\"}}{{.Dir}}{{end}}", "./..."],
                                          cwd=src, capture_output=True, text=True, check=True).stdout.split()
                    mains = [f"./{Path(d).relative_to(src)}" for d in dirs]
                    ko_cmd = [ko, "build", *mains, "--platform", PLATFORMS, "--insecure-registry", "--sbom=none"]
                    r, _ = measure("ko", "cold", ko_cmd, src, ko_env, proxy, log)
                    runs.append(r)
                    touch(src, 2)
                    r, _ = measure("ko", "warm", ko_cmd, src, ko_env, proxy, log)
                    runs.append(r)
                else:
                    console.print(f"ko skipped or did not install (go install github.com/google/ko@{KO_VERSION})")
    table = Table(title=f"monorepo benchmark: {args.services} services × 2 platforms, push to a loopback registry; "
                        f"{os.cpu_count()} cores")
    for col in ("tool", "phase", "images", "wall s", "wall vs slimgo", "CPU s", "sent to registry",
                "sent vs slimgo", "requests", "requests vs slimgo"):
        table.add_column(col, justify="left" if col in ("tool", "phase") else "right")
    peer = {r.phase: r for r in runs if r.tool == "slimgo"}
    for r in runs:
        p = peer[r.phase]
        table.add_row(r.tool, r.phase, str(r.images), f"{r.wall:.1f}", f"{r.wall / p.wall:.2f}×", f"{r.cpu:.1f}",
                      f"{r.sent / 1048576:.2f} MiB", f"{r.sent / p.sent:.2f}×" if p.sent else "-",
                      str(r.requests), f"{r.requests / p.requests:.2f}×" if p.requests else "-")
    console.print(table)
    console.print_json(json.dumps([r.__dict__ for r in runs]))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
