"""Local images for Docker builds that cannot pull: a Go builder made from the host toolchain (plus a
static busybox shell) and slimgo's static base, both loaded into the engine."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import json
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from tests.support.parts import DOCKER, record_image

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def image_exists(tag: str) -> bool:
    return subprocess.run([DOCKER, "image", "inspect", tag], capture_output=True).returncode == 0


def ensure_builder_image(tag: str, env: dict[str, str] | None = None) -> str:
    """A `golang`-like builder: the host GOROOT at /usr/local/go and busybox as /bin/sh. Made once per test
    run (the first test that needs it) and removed at the end of the run."""
    if image_exists(tag):
        return tag
    record_image(tag)
    goroot = Path(subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip())
    with tempfile.TemporaryDirectory() as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        with tarfile.open(rootfs, "w") as tar:
            tar.add(goroot, arcname="usr/local/go")
            # wget, sha256sum and an xz-capable tar also let it stand in for alpine (the UPX stage).
            _add_busybox(tar, ("sh", "mkdir", "cp", "ls", "touch", "true", "rm", "cat", "mv", "wget", "sha256sum",
                               "tar", "xz", "echo"),
                         (("tmp", 0o1777), ("root", 0o700), ("go", 0o755)))
            # The CA bundle golang images carry (ca-certificates), for stages that copy it out.
            if Path(CA_BUNDLE).is_file():
                tar.add(CA_BUNDLE, arcname=CA_BUNDLE.lstrip("/"))
        changes = {"PATH": "/usr/local/go/bin:/bin", "HOME": "/root", "GOTOOLCHAIN": "local", "GOPROXY": "off",
                   **(env or {})}
        cmd = [DOCKER, "import"]
        for k, v in changes.items():
            cmd += ["--change", f"ENV {k}={v}"]
        subprocess.run([*cmd, str(rootfs), tag], check=True, capture_output=True)
    return tag


def ensure_static_image(tag: str) -> str:
    """slimgo's static base (full variant), loaded into the engine under tag (removed at the end of the run)."""
    if image_exists(tag):
        return tag
    record_image(tag)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "static.tar"
        subprocess.run([sys.executable, "-m", "slimgo", "base", "push", "--tarball", str(archive), "--tag", tag,
                        "--platform", "linux/amd64"], check=True, capture_output=True)
        subprocess.run([DOCKER, "load", "-i", str(archive)], check=True, capture_output=True)
    return tag


SHELL_APPLETS = ("sh", "echo", "mkdir", "ln", "chmod", "chown", "cp", "rm", "mv", "touch", "cat", "true", "ls",
                 "adduser", "addgroup", "id", "env")


def ensure_shell_image(tag: str) -> str:
    """A tiny distro stand-in (busybox as /bin/sh and friends, /etc/passwd and /etc/group) for building
    real-world Dockerfiles offline whose steps only need a shell. Removed at the end of the run."""
    if image_exists(tag):
        return tag
    record_image(tag)
    with tempfile.TemporaryDirectory() as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        with tarfile.open(rootfs, "w") as tar:
            _add_busybox(tar, SHELL_APPLETS, (("tmp", 0o1777), ("root", 0o700), ("etc", 0o755), ("usr/bin", 0o755),
                                              ("usr/local/bin", 0o755), ("usr/sbin", 0o755), ("home", 0o755)))
            for name, text in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), ("etc/group", "root:x:0:\n")):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        subprocess.run([DOCKER, "import", "--change", "ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin",
                        "--change", 'CMD ["/bin/sh"]', str(rootfs), tag], check=True, capture_output=True)
    return tag


def _add_busybox(tar: tarfile.TarFile, applets: tuple[str, ...], dirs: tuple[tuple[str, int], ...]) -> None:
    """busybox at /bin/busybox, one symlink per applet, and the directories an image expects."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise RuntimeError("busybox is needed for the test images' shell (apt-get install busybox-static)")
    tar.add(busybox, arcname="bin/busybox")
    for tool in applets:
        info = tarfile.TarInfo(f"bin/{tool}")
        info.type, info.linkname = tarfile.SYMTYPE, "busybox"
        tar.addfile(info)
    for d, mode in dirs:
        info = tarfile.TarInfo(d)
        info.type, info.mode = tarfile.DIRTYPE, mode
        tar.addfile(info)


def _host_package_files(packages: tuple[str, ...]) -> list[Path]:
    """The files (and file symlinks) of installed Debian packages and everything they depend on."""
    proc = subprocess.run(["apt-cache", "depends", "--recurse", "--installed", "--no-recommends", "--no-suggests",
                           "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *packages],
                          capture_output=True, text=True, check=True)
    names = sorted({ln.strip() for ln in proc.stdout.splitlines() if ln and not ln.startswith((" ", "<"))})
    listed = subprocess.run(["dpkg", "-L", *names], capture_output=True, text=True).stdout.splitlines()
    return [Path(p) for p in sorted(set(listed)) if os.path.islink(p) or os.path.isfile(p)]


def _derive(base: str, tag: str, files: list[Path], env: dict[str, str]) -> None:
    """base plus host files at their real paths (merged-/usr links resolved), /lib and /lib64 as links."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp)
        with tarfile.open(ctx / "rootfs.tar", "w") as tar:
            for name, target in (("lib", "usr/lib"), ("lib64", "usr/lib64")):
                info = tarfile.TarInfo(name)
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)
            seen = set()
            for f in files:
                real = Path(os.path.realpath(f.parent)) / f.name
                if real in seen or not real.as_posix().startswith("/usr/"):
                    continue
                seen.add(real)
                tar.add(str(real), arcname=real.as_posix().lstrip("/"), recursive=False)
        lines = [f"FROM {base}", "ADD rootfs.tar /", *(f"ENV {k}={v}" for k, v in env.items())]
        (ctx / "Dockerfile").write_text("\n".join(lines) + "\n")
        subprocess.run([DOCKER, "build", "-q", "-t", tag, str(ctx)], check=True, capture_output=True,
                       env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"})


def ensure_cgo_builder_image(tag: str, builder: str) -> str:
    """The Go builder plus the host's C toolchain (gcc, binutils, libc6-dev), like golang's Debian images."""
    if not image_exists(tag):
        record_image(tag)
        _derive(builder, tag, _host_package_files(("gcc", "libc6-dev")),
                {"PATH": "/usr/local/go/bin:/usr/bin:/bin"})
    return tag


def ensure_glibc_runtime_image(tag: str, static: str) -> str:
    """slimgo's static base plus the host's glibc: a stand-in for distroless/base."""
    if not image_exists(tag):
        record_image(tag)
        _derive(static, tag, _host_package_files(("libc6",)), {})
    return tag


def docker_build(context: Path, tag: str, dockerfile: Path, build_args: dict[str, str],
                 platform: str | None = None) -> subprocess.CompletedProcess[str]:
    """`docker build` with BuildKit as a user runs it; the caller asserts on the result."""
    cmd = [DOCKER, "build", "-q", "-f", str(dockerfile), "-t", tag]
    for k, v in build_args.items():
        cmd += ["--build-arg", f"{k}={v}"]
    if platform:
        cmd += ["--platform", platform]
    return subprocess.run([*cmd, str(context)], capture_output=True, text=True, timeout=900,
                          env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"})


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge: what a RUN step reaches the host at."""
    out = subprocess.run([DOCKER, "network", "inspect", "bridge", "--format",
                          '{{index .Options "com.docker.network.bridge.name"}}'], capture_output=True, text=True,
                         check=True)
    addr = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", out.stdout.strip() or "docker0"],
                          capture_output=True, text=True, check=True).stdout.split()
    return addr[addr.index("inet") + 1].split("/")[0]


@contextlib.contextmanager
def serve_on_bridge(directory: Path) -> Iterator[str]:
    """An HTTP server on the bridge gateway, where BuildKit's RUN steps reach the host."""
    host = bridge_gateway()
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def upx_release(upx: Path, version: str, dest: Path) -> str:
    """The layout of an upstream UPX release tarball, around the given binary; returns its sha256."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(str(upx), arcname=f"upx-{version}-amd64_linux/upx")
    data = lzma.compress(buf.getvalue(), format=lzma.FORMAT_XZ, preset=0)  # fast; any xz will do
    (dest / f"upx-{version}-amd64_linux.tar.xz").write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def delve_proxy(go: str, version: str) -> Path:
    """The host module cache holds a GOPROXY tree; fill it with Delve's module graph."""
    proc = subprocess.run([go, "mod", "download", "-json", f"github.com/go-delve/delve@{version}"],
                          capture_output=True, text=True, cwd="/")
    if proc.returncode != 0:
        raise RuntimeError(f"go mod download delve@{version}: {proc.stdout}{proc.stderr}")
    subprocess.run([go, "mod", "download"], cwd=json.loads(proc.stdout)["Dir"], check=True, capture_output=True)
    modcache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    return Path(modcache) / "cache" / "download"


def builder_with_proxy(builder: str, proxy_url: str, tag: str) -> str:
    """The stand-in builder pointed at a module proxy (it has none by default), as a thin layer."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp)
        (ctx / "Dockerfile").write_text(f"FROM {builder}\nENV GOPROXY={proxy_url} GOSUMDB=off\n")
        proc = docker_build(ctx, tag, ctx / "Dockerfile", {})
        if proc.returncode != 0:
            raise RuntimeError(f"proxy builder: {proc.stderr[-2000:]}")
    return tag


def find_upx(shared: Path) -> Path | None:
    """UPX for tests: $SLIMGO_UPX, PATH, else the development copy in ../shared (optional)."""
    for candidate in (os.environ.get("SLIMGO_UPX"), shutil.which("upx"), str(shared)):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None
