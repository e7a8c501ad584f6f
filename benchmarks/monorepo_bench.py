"""Monorepo benchmark: `slimgo build ./...` vs `ko build ./...`, N services, two platforms, one registry.

    python3 benchmarks/monorepo_bench.py [--services 20] [--skip ko,zlib,attest] [--jobs-sweep 1,3] [--rounds 3]

A generated module of N main packages sharing an internal package and two real dependencies from the Go
module proxy (golang.org/x/text, golang.org/x/sync). Each tool builds linux/amd64 + linux/arm64 and pushes
every image to a loopback registry (Debian's docker-registry) through a byte-counting TCP proxy:

- cold: empty Go build cache and empty tool caches, a fresh repository prefix;
- no change: the same again (caches and registry contents kept): every image is already there;
- one edited: one service's source changed so that its binary changes; the other 19 are unchanged.

Every phase runs each tool in turn, so they share the load of that moment. The tools: slimgo with ko's
outputs (no SBOM, no provenance), ko, and, as labelled rows, slimgo with `--gzip-library zlib` (one gzip
member a layer, as before libdeflate became the default) and slimgo's defaults (SBOM and provenance attached and pushed).

Measured per run: wall time, CPU time (user+sys of the tool and every process it waited for), bytes sent to
the registry (every byte of every request through the proxy), registry requests (the registry's access
log). ko builds on slimgo's static base (pushed once, as a two-platform index, before timing) with the same
flags (-trimpath, -s -w). `--jobs-sweep` adds slimgo rows with other pool sizes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import parts  # noqa: E402
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
    load: float  # the 1-minute load average when the run started (the machine is shared)


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
    load = load_average()
    sent0, req0 = proxy.sent, requests_in(log)
    wall, cpu, proc = parts.run_timed(cmd, cwd, env)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} {phase} failed:\n{proc.stderr[-3000:]}")
    images = sum(1 for line in proc.stdout.splitlines() if "@sha256:" in line)
    print(f"{tool} {phase}: {wall:.1f} s wall, {cpu:.1f} s CPU, {proxy.sent - sent0} bytes sent, "
          f"{requests_in(log) - req0} requests, {images} images", file=sys.stderr, flush=True)
    return Run(tool, phase, wall, cpu, proxy.sent - sent0, requests_in(log) - req0, images, load), proc.stdout


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


def edit(src: Path, n: int) -> None:
    """A change that reaches the binary (an unused variable would be dropped by the linker)."""
    with open(src / "cmd" / "svc00" / "main.go", "a") as fh:
        fh.write(f'\nfunc init() {{ println("edit {n}") }}\n')


def load_average() -> float:
    return os.getloadavg()[0]


PHASES = ("cold", "no change", "one edited")
Tools = dict[str, tuple[list[str], dict[str, str]]]


def _tools(args: argparse.Namespace, skip: set[str], ko: str | None, mains: list[str], ko_cfg: Path, reg: str,
           work: Path) -> Tools:
    """Every tool with its own empty caches and repository prefix (one round)."""
    work.mkdir(parents=True)
    tools: Tools = {}

    def slimgo_tool(name: str, *flags: str) -> None:
        n = len(tools)
        tools[name] = ([*parts.slimgo_command(), "build", "./...", "--platform", PLATFORMS,
                        "--push", f"{reg}/{work.name}-{n}", *flags],
                       {"GOCACHE": str(work / f"gocache-{n}"), "SLIMGO_CACHE": str(work / f"cache-{n}"),
                        "GOFLAGS": "-mod=mod"})

    # ko attaches no provenance and is told --sbom=none: slimgo's peer row does the same.
    slimgo_tool("slimgo", "--sbom", "none", "--no-provenance")
    if ko is not None:
        tools["ko"] = ([ko, "build", *mains, "--platform", PLATFORMS, "--insecure-registry", "--sbom=none"],
                       {"GOCACHE": str(work / "gocache-ko"), "KO_DOCKER_REPO": f"{reg}/{work.name}-ko",
                        "KO_CONFIG_PATH": str(ko_cfg), "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"})
    if "zlib" not in skip:
        slimgo_tool("slimgo --gzip-library zlib", "--sbom", "none", "--no-provenance", "--gzip-library", "zlib")
    if "attest" not in skip:
        slimgo_tool("slimgo (SBOM + provenance)")
    for jobs in filter(None, args.jobs_sweep.split(",")):
        slimgo_tool(f"slimgo --jobs {jobs}", "--sbom", "none", "--no-provenance", "--jobs", jobs)
    return tools


def _medians(runs: list[Run]) -> list[Run]:
    """One row per tool and phase: the median of each measure over the rounds (bytes and requests do not
    vary; wall time does, with the machine's load)."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for r in runs:
        groups.setdefault((r.tool, r.phase), []).append(r)
    out = []
    for (tool, phase), rs in groups.items():
        def med(key: str, rs: list[Run] = rs) -> float:
            return float(statistics.median(getattr(r, key) for r in rs))
        out.append(Run(tool, phase, med("wall"), med("cpu"), int(med("sent")), int(med("requests")),
                       int(med("images")), med("load")))
    return sorted(out, key=lambda r: (PHASES.index(r.phase), list(groups).index((r.tool, r.phase))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--skip", default="", help="comma-separated: ko, zlib, attest")
    ap.add_argument("--jobs-sweep", default="", metavar="N,N", help="also run slimgo with these --jobs (cold, warm)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds (fresh caches and repositories each); medians")
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))  # unwind: the registry stops, the temp dir goes
    console = Console(width=160)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="slimgo-monobench-") as tmp:
        work = Path(tmp)
        src = write_monorepo(work / "src", [f"svc{i:02d}" for i in range(args.services)], requires=REQUIRES,
                             imports=IMPORTS, module="example.com/monobench")
        ko = None if "ko" in skip else find_ko(work)
        with logged_registry(work / "registry") as (port, log):
            proxy = CountingProxy(port)
            with proxy.run() as reg:
                base_ref = push_base(work / "base", reg)
                ko_cfg = work / "ko-config"
                ko_cfg.mkdir()
                (ko_cfg / ".ko.yaml").write_text(f"defaultBaseImage: {base_ref}\ndefaultFlags: [-trimpath]\n"
                                                 "defaultLdflags: [-s, -w]\n")
                # ko v0.17 refuses a `./...` pattern here ("found N local packages, expected 1"): it is given
                # the same main packages, listed by `go list`, as arguments.
                dirs = subprocess.run(["go", "list", "-f", "{{if eq .Name \"main\"}}{{.Dir}}{{end}}", "./..."],
                                      cwd=src, capture_output=True, text=True, check=True).stdout.split()
                mains = [f"./{Path(d).relative_to(src)}" for d in dirs]
                if ko is None:
                    console.print(f"ko skipped or did not install (go install github.com/google/ko@{KO_VERSION})")
                for rnd in range(args.rounds):
                    tools = _tools(args, skip, ko, mains, ko_cfg, reg, work / f"round{rnd}")
                    # Each phase runs every tool in turn, so they share the machine's load of that moment.
                    for phase in PHASES:
                        if phase == "one edited":
                            edit(src, rnd)
                        for name, (cmd, env) in tools.items():
                            r, _ = measure(name, phase, cmd, src, env, proxy, log)
                            runs.append(r)
    runs = _medians(runs)
    table = Table(title=f"monorepo benchmark: {args.services} services × 2 platforms, push to a loopback registry; "
                        f"{os.cpu_count()} cores")
    for col in ("tool", "phase", "images", "wall s", "wall vs slimgo", "CPU s", "CPU vs slimgo", "sent to registry",
                "sent vs slimgo", "requests", "requests vs slimgo", "load"):
        table.add_column(col, justify="left" if col in ("tool", "phase") else "right")
    peer = {r.phase: r for r in runs if r.tool == "slimgo"}
    for r in runs:
        p = peer[r.phase]
        table.add_row(r.tool, r.phase, str(r.images), f"{r.wall:.1f}", f"{r.wall / p.wall:.2f}×", f"{r.cpu:.1f}",
                      f"{r.cpu / p.cpu:.2f}×", _human(r.sent), f"{r.sent / p.sent:.2f}×" if p.sent else "-",
                      str(r.requests), f"{r.requests / p.requests:.2f}×" if p.requests else "-", f"{r.load:.1f}")
    console.print(table)
    console.print_json(json.dumps([r.__dict__ for r in runs]))
    return 0


def _human(n: int) -> str:
    return f"{n / 1048576:.2f} MiB" if n >= 1048576 else f"{n / 1024:.1f} KiB"


if __name__ == "__main__":
    sys.exit(main())
