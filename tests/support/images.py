"""Local images for Docker builds that cannot pull: a Go builder made from the host toolchain (plus a
static busybox shell) and slimgo's static base, both loaded into the engine."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from tests.support.parts import DOCKER, record_image


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
            _add_busybox(tar, ("sh", "mkdir", "cp", "ls", "touch", "true", "rm", "cat"),
                         (("tmp", 0o1777), ("root", 0o700), ("go", 0o755)))
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
