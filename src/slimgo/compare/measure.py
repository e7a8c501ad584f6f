"""Start-up time and peak memory, measured by running the entrypoint in the image's unpacked root
filesystem (chroot, as root), so that engine overhead does not swamp the differences (UPX's unpacking).

Unpacking never writes outside the target directory: entries are normalised, `..` and absolute link
targets that would escape are refused, and nothing is followed through a symlink.
"""

from __future__ import annotations

import os
import posixpath
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ImageFormatError
from ..oci.model import Image
from ..sources.files import decompressed_stream


@dataclass
class Measurement:
    startup_ms: float | None
    rss_bytes: int | None
    starts: bool | None
    reason: str = ""


def _inside(root: Path, rel: str) -> Path:
    norm = posixpath.normpath("/" + rel).lstrip("/")
    if norm.startswith("..") or not norm or norm == ".":
        raise ImageFormatError(f"layer entry {rel!r} escapes the image root")
    return root / norm


def unpack(image: Image, root: Path) -> Path:
    """Extract the layers in order, applying whiteouts, without ever following a symlink."""
    root.mkdir(parents=True, exist_ok=True)
    for layer in image.layers:
        with decompressed_stream(layer.open) as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
            for m in tar:
                dest = _inside(root, m.name)
                name = dest.name
                if name.startswith(".wh."):
                    target = dest.with_name(name[4:])
                    if name == ".wh..wh..opq":
                        for child in dest.parent.iterdir():
                            _remove(child)
                    elif target.exists() or target.is_symlink():
                        _remove(target)
                    continue
                _check_no_symlink_parent(root, dest)
                if dest.exists() or dest.is_symlink():
                    if not (m.isdir() and dest.is_dir()):
                        _remove(dest)
                if m.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                    os.chmod(dest, m.mode & 0o7777)
                elif m.issym():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(m.linkname, dest)
                elif m.islnk():
                    src = _inside(root, m.linkname)
                    _check_no_symlink_parent(root, src)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.link(src, dest)
                elif m.isfile():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    fh = tar.extractfile(m)
                    assert fh is not None
                    with open(dest, "wb") as out:
                        while chunk := fh.read(1 << 20):
                            out.write(chunk)
                    os.chmod(dest, m.mode & 0o7777)
                else:
                    continue  # devices and fifos are not needed to run a Go binary
                if not m.issym():
                    os.chown(dest, m.uid, m.gid, follow_symlinks=False)
    return root


def _check_no_symlink_parent(root: Path, dest: Path) -> None:
    p = dest.parent
    while p != root and root in p.parents:
        if p.is_symlink():
            raise ImageFormatError(f"layer entry {dest.relative_to(root)} goes through a symlink")
        p = p.parent


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


def _interp_hint(output: str) -> str:
    return " (the ELF interpreter is missing from the image)" if "No such file or directory" in output else ""


def _user(config: dict[str, Any]) -> tuple[int, int]:
    user = str((config.get("config") or {}).get("User") or "0")
    uid, _, gid = user.partition(":")
    try:
        return int(uid), int(gid or uid)
    except ValueError:
        return 0, 0  # named users need the image's passwd; measurement runs them as root


def _vm_hwm(pid: int) -> int:
    """Peak RSS of the process's current address space, in bytes.

    Not ru_maxrss: Linux folds the spawning parent's high-water mark into the child's at exec (fork and
    vfork alike), so a child of this Python process would report Python's pages (measured: 161 MB for a
    7 MB Go server). VmHWM belongs to the address space that exec created, so it is the program's own.
    """
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def measure(root: Path, image: Image, run_args: list[str], port: int | None, ready: str | None, grace: float,
            runs: int = 5) -> Measurement:
    cfg = image.config
    inner = cfg.get("config") or {}
    argv = list(inner.get("Entrypoint") or []) + run_args
    env = {k: v for k, v in (e.split("=", 1) for e in inner.get("Env") or [] if "=" in e)}
    uid, gid = _user(cfg)
    times, peaks = [], []
    pattern = re.compile(ready) if ready else None
    for _ in range(runs):
        if port is not None and _accepts(port):
            return Measurement(None, None, None, f"port {port} is already in use on this machine")

        # coreutils chroot lets subprocess spawn with vfork: with a Python preexec_fn the child would be a
        # fork of this interpreter, and ru_maxrss would report Python's pages instead of the program's.
        cmd = [CHROOT, f"--userspec={uid}:{gid}", str(root), *argv]
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, close_fds=True)
        except OSError as exc:
            return Measurement(None, None, False, f"exec failed: {exc.strerror}")
        reason, ok, elapsed = "", False, None
        deadline = t0 + max(grace, 10.0 if port or ready else grace)
        buf = b""
        usage = None
        hwm = 0
        while time.perf_counter() < deadline:
            hwm = max(hwm, _vm_hwm(proc.pid))
            if port is not None and _accepts(port):
                ok, elapsed = True, time.perf_counter() - t0
                break
            if pattern is not None and proc.stdout is not None:
                r, _, _ = select.select([proc.stdout], [], [], 0.01)
                if r:
                    buf += os.read(proc.stdout.fileno(), 65536)
                    if pattern.search(buf.decode(errors="replace")):
                        ok, elapsed = True, time.perf_counter() - t0
                        break
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)  # reap ourselves: wait4 gives the rusage
            if pid:
                usage, code = ru, os.waitstatus_to_exitcode(status)
                proc.returncode = code
                out = buf.decode(errors="replace") + (proc.stdout.read().decode(errors="replace") if proc.stdout else "")
                if "chroot: failed to run command" in out:
                    reason = "exec failed: " + out.strip().split(":")[-1].strip() + _interp_hint(out)
                elif port is None and pattern is None and code == 0:
                    ok, elapsed = True, time.perf_counter() - t0
                else:
                    reason = f"exited with status {code}"
                break
            time.sleep(0.002)
        else:
            if port is None and pattern is None:
                ok = True  # still running after the grace period: it started; start-up time is unknown
            else:
                reason = "not ready before the deadline"
        if usage is None:
            hwm = max(hwm, _vm_hwm(proc.pid))
            os.kill(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.stdout:
            proc.stdout.close()
        if not ok:
            return Measurement(None, None, False, reason)
        if elapsed is not None:
            times.append(elapsed * 1000)
        if hwm:
            peaks.append(hwm)
    startup = round(statistics.median(times), 2) if len(times) == runs else None
    return Measurement(startup, max(peaks) if peaks else None, True,
                       "" if startup is not None else "runs until stopped: give --port or --ready to time start-up")


def run_once(root: Path, image: Image, timeout: float = 30.0) -> tuple[int, str]:
    """Run the entrypoint once in the unpacked root (for the probe when no engine is available)."""
    inner = image.config.get("config") or {}
    argv = list(inner.get("Entrypoint") or [])
    env = {k: v for k, v in (e.split("=", 1) for e in inner.get("Env") or [] if "=" in e)}
    uid, gid = _user(image.config)
    try:
        proc = subprocess.run([CHROOT, f"--userspec={uid}:{gid}", str(root), *argv], env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, "timed out"
    out = proc.stdout + proc.stderr
    if "chroot: failed to run command" in out:
        return 127, "exec failed: " + out.strip().split(":")[-1].strip() + _interp_hint(out)
    return proc.returncode, proc.stdout
