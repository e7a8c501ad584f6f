"""Run an image's entrypoint in its unpacked root the way a container runtime would, and measure it.

The child gets a private mount namespace with `/proc`, a read-only `/sys` and a small `/dev` (null, zero,
full, random, urandom, tty, fd links, shm), then chroots into the root and drops to the image's user.
Programs that read /proc (node_exporter, anything that sizes itself from cgroups) start as they do in
Docker; the mounts vanish with the namespace, so nothing is left on the host.

Peak memory is the program's own `VmHWM`. For a program that exits by itself it is read at the
moment of exit: the child is traced (PTRACE_TRACEME) with PTRACE_O_TRACEEXIT, so it stops before its
address space is torn down. Polling instead (the old way) read 4 KiB, 160 KiB or 1.7 MiB for the same
image, depending on when the last poll fell. A server is read at readiness, just before it is stopped.
`ru_maxrss` is no use: Linux folds the spawning Python's high-water mark into it at exec.
"""

from __future__ import annotations

import ctypes
import os
import re
import select
import signal
import socket
import stat
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 0x4000, 1 << 18
PTRACE_TRACEME, PTRACE_CONT, PTRACE_SETOPTIONS = 0, 7, 0x4200
PTRACE_O_TRACEEXEC, PTRACE_O_TRACEEXIT = 0x10, 0x40
PTRACE_EVENT_EXEC, PTRACE_EVENT_EXIT = 4, 6
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
TAIL = 2048  # bytes of the program's output kept to explain an early exit


@dataclass
class Command:
    root: Path
    argv: list[str]
    env: dict[str, str]
    uid: int = 0
    gid: int = 0
    workdir: str = "/"


@dataclass
class RunResult:
    ok: bool  # started: exited 0, got ready, or was still running after the grace period
    elapsed_ms: float | None  # to readiness or exit; None when it was still running (no end to time)
    peak_rss: int | None
    reason: str = ""
    output: str = ""  # the tail of stdout+stderr


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enter(cmd: Command, trace: bool) -> None:
    """Runs in the forked child, before exec: namespace, mounts, chroot, user, tracing."""
    libc = _libc()
    root = str(cmd.root).encode()
    _check(libc.unshare(CLONE_NEWNS), "unshare")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    _check(libc.mount(b"proc", root + b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
    _check(libc.mount(b"sysfs", root + b"/sys", b"sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
           "mount /sys")
    _check(libc.mount(b"tmpfs", root + b"/dev", b"tmpfs", MS_NOSUID | MS_NOEXEC, b"mode=755,size=64k"),
           "mount /dev")
    dev = cmd.root / "dev"
    for name, (major, minor) in DEVICES.items():
        os.mknod(dev / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(dev / name, 0o666)  # mknod's mode goes through the umask
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, dev / name)
    (dev / "shm").mkdir()
    os.chmod(dev / "shm", 0o1777)
    os.chroot(cmd.root)
    os.chdir(cmd.workdir if os.path.isdir(cmd.workdir) else "/")
    os.setgroups([])
    os.setgid(cmd.gid)
    os.setuid(cmd.uid)
    if trace:  # where ptrace is forbidden (seccomp) the run goes on untraced: no peak memory, not no run
        libc.ptrace(PTRACE_TRACEME, 0, None, None)


def prepare(root: Path) -> None:
    """Mount points for the namespace. The root is slimgo's own unpacked copy; an image's own /proc, /sys or
    /dev (usually empty) is replaced by an empty directory, as a runtime's mounts would hide it."""
    for name in ("proc", "sys", "dev"):
        p = root / name
        if p.is_symlink() or (p.exists() and not p.is_dir()):
            p.unlink()
        p.mkdir(exist_ok=True)


def spawn(cmd: Command, trace: bool = False) -> subprocess.Popen[bytes]:
    prepare(cmd.root)
    return subprocess.Popen(cmd.argv, env=cmd.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, close_fds=True, preexec_fn=lambda: _enter(cmd, trace))


def vm_hwm(pid: int) -> int:
    """Peak RSS of the process's current address space (VmHWM), in bytes; 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _spawn_error(cmd: Command, exc: Exception) -> RunResult:
    text = str(exc)
    if isinstance(exc, subprocess.SubprocessError):  # raised for a failure inside _enter
        text = "could not set up the sandbox (it needs root for the mount namespace and chroot)"
    if isinstance(exc, FileNotFoundError) and (cmd.root / cmd.argv[0].lstrip("/")).exists():
        text = "No such file or directory (the ELF interpreter is missing from the image)"
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    return RunResult(False, None, None, f"exec failed: {text}")


def _tail(data: bytes) -> str:
    return data[-TAIL:].decode(errors="replace").strip()


def _early_exit(code: int, output: bytes) -> str:
    tail = _tail(output)
    last = " | ".join(tail.splitlines()[-5:])
    return f"exited with status {code}" + (f"; its output ended with: {last[-400:]}" if last else " (no output)")


def run_to_exit(cmd: Command, grace: float) -> RunResult:
    """A program that is expected to exit by itself (or to keep running past `grace`, which counts as
    started with no start-up time). Traced so that VmHWM is read at the exit stop."""
    libc = _libc()
    t0 = time.perf_counter()
    try:
        proc = spawn(cmd, trace=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return _spawn_error(cmd, exc)
    pid = proc.pid
    output = bytearray()
    peak = 0
    state = {"timed_out": False}

    def reader() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(65536):  # type: ignore[attr-defined]
            output.extend(chunk)
            del output[:-TAIL * 4]

    def on_timeout() -> None:
        state["timed_out"] = True
        nonlocal peak
        peak = max(peak, vm_hwm(pid))
        os.kill(pid, signal.SIGKILL)

    drain = threading.Thread(target=reader, daemon=True)
    drain.start()
    timer = threading.Timer(grace, on_timeout)
    timer.start()
    ended, code = None, -1
    try:
        first = True
        while True:
            _, status = os.waitpid(pid, 0)
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                code = os.waitstatus_to_exitcode(status)
                ended = ended or time.perf_counter()
                break
            sig, event = os.WSTOPSIG(status), status >> 16
            deliver = 0
            if first:
                first = False
                libc.ptrace(PTRACE_SETOPTIONS, pid, None, PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC)
            elif event == PTRACE_EVENT_EXIT:
                ended = time.perf_counter()
                peak = max(peak, vm_hwm(pid))
            elif event != PTRACE_EVENT_EXEC and sig != signal.SIGTRAP:
                deliver = sig  # the program's own signal (Go's SIGURG preemption): pass it on
            libc.ptrace(PTRACE_CONT, pid, None, deliver)
    finally:
        timer.cancel()
        proc.returncode = code
        drain.join(timeout=2)
        if proc.stdout:
            proc.stdout.close()
    if state["timed_out"]:
        return RunResult(True, None, peak or None, "still running after the grace period", _tail(bytes(output)))
    if code != 0:
        return RunResult(False, None, peak or None, _early_exit(code, bytes(output)), _tail(bytes(output)))
    assert ended is not None
    return RunResult(True, (ended - t0) * 1000, peak or None, "", _tail(bytes(output)))


def run_until_ready(cmd: Command, port: int | None, ready: re.Pattern[str] | None, deadline_s: float) -> RunResult:
    """A server: started = accepts a connection on `port`, or prints a line matching `ready`. Peak memory
    is read at readiness, just before the program is stopped."""
    t0 = time.perf_counter()
    try:
        proc = spawn(cmd)
    except (OSError, subprocess.SubprocessError) as exc:
        return _spawn_error(cmd, exc)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    output = b""
    peak = 0
    result: RunResult | None = None
    try:
        while time.perf_counter() < t0 + deadline_s:
            peak = max(peak, vm_hwm(proc.pid))
            if port is not None and accepts(port):
                result = RunResult(True, (time.perf_counter() - t0) * 1000, 0)
                break
            r, _, _ = select.select([fd], [], [], 0.002)
            if r:
                chunk = os.read(fd, 65536)
                output = (output + chunk)[-TAIL * 4:]
                if ready is not None and ready.search(output.decode(errors="replace")):
                    result = RunResult(True, (time.perf_counter() - t0) * 1000, 0)
                    break
            code = proc.poll()
            if code is not None:
                output += proc.stdout.read()
                return RunResult(False, None, peak or None, _early_exit(code, output), _tail(output))
        if result is None:
            return RunResult(False, None, peak or None, "not ready before the deadline", _tail(output))
        result.peak_rss = max(peak, vm_hwm(proc.pid)) or None
        result.output = _tail(output)
        return result
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def run_capture(cmd: Command, timeout: float) -> tuple[int, str]:
    """Run once and return (exit code, stdout+stderr), for the probe when no engine is available."""
    try:
        proc = spawn(cmd)
    except (OSError, subprocess.SubprocessError) as exc:
        return 127, _spawn_error(cmd, exc).reason
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return -1, "timed out"
    return proc.returncode, out.decode(errors="replace")
