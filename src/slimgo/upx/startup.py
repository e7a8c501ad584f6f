"""Does a (packed) Go binary start, and what does starting cost? Measured without running the program.

"Starts" means: the process got through UPX's decompression stub and Go's runtime bootstrap and reached
`runtime.main`, which creates the first extra thread (sysmon) before any package init or `main.main`
runs. Every Go + UPX failure we know of (upx/upx#443, #952 on arm64, #105 on musl, PIE) crashes in the stub
or in the runtime's bootstrap, so it shows before that point. Stopping there means the user's program
never runs on the build machine: no port is bound, no file written, and a server that never exits is no
problem. The whole image is then started for real by `slimgo compare` and the tests.

How the first thread is seen:
- same architecture: the process is traced (ptrace, PTRACE_O_TRACECLONE) and killed at its first clone;
  the clock starts at the exec stop, so fork cost is not counted;
- another architecture: qemu-user runs it with QEMU_STRACE, and the first `clone(` of the guest ends it
  (the numbers then include the emulator and are labelled as emulated).

At that moment `/proc/PID/status` gives the peak resident memory (VmHWM) and the private part of it
(RssAnon). UPX writes the whole decompressed program into anonymous memory, so RssAnon is where its cost
shows: those pages cannot be shared between processes, while an unpacked binary's pages are file-backed.
"""

from __future__ import annotations

import ctypes
import os
import platform as host_platform
import select
import shutil
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..platform import Platform

_HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le"}
_QEMU_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "arm": "arm", "386": "i386", "ppc64le": "ppc64le"}

PTRACE_CONT, PTRACE_GETEVENTMSG, PTRACE_SEIZE = 7, 0x4201, 0x4206
PTRACE_O_TRACECLONE, PTRACE_O_TRACEEXEC, PTRACE_O_EXITKILL = 0x8, 0x10, 0x100000
PTRACE_EVENT_CLONE, PTRACE_EVENT_EXEC = 3, 4
WALL = 0x40000000
DEADLINE_S = 60.0  # native; a 100 MB LZMA-packed binary unpacks in well under that even on a busy machine
EMULATED_DEADLINE_S = 300.0


@dataclass(frozen=True)
class Launch:
    """How to run a binary of some platform on this machine."""

    prefix: tuple[str, ...]  # () natively, (qemu,) emulated
    emulated: bool


@dataclass
class StartSample:
    started: bool
    seconds: float | None = None
    peak_rss_bytes: int | None = None
    private_bytes: int | None = None
    reason: str = ""
    cpu_seconds: float | None = None  # CPU time of the main thread: unlike wall time, immune to machine load


@dataclass
class StartCost:
    """Median start-up time and resident memory at Go's runtime.main, unpacked and packed, same runs."""

    runs: int
    emulated: bool
    unpacked_ms: float
    packed_ms: float
    unpacked_peak_rss: int
    packed_peak_rss: int
    unpacked_private: int
    packed_private: int
    unpacked_cpu_ms: float = 0.0
    packed_cpu_ms: float = 0.0

    @property
    def added_ms(self) -> float:
        return round(self.packed_ms - self.unpacked_ms, 2)

    @property
    def added_private_bytes(self) -> int:
        return self.packed_private - self.unpacked_private

    def to_json(self) -> dict[str, object]:
        return {"runs": self.runs, "emulated": self.emulated,
                "startup_ms_unpacked": self.unpacked_ms, "startup_ms_packed": self.packed_ms,
                "startup_ms_added": self.added_ms,
                "startup_cpu_ms_unpacked": self.unpacked_cpu_ms, "startup_cpu_ms_packed": self.packed_cpu_ms,
                "startup_cpu_ms_added": round(self.packed_cpu_ms - self.unpacked_cpu_ms, 2),
                "peak_rss_bytes_unpacked": self.unpacked_peak_rss, "peak_rss_bytes_packed": self.packed_peak_rss,
                "private_bytes_unpacked": self.unpacked_private, "private_bytes_packed": self.packed_private,
                "private_bytes_added": self.added_private_bytes,
                "method": "wall and CPU time from exec to Go's runtime.main (first thread), median of runs; memory "
                          "at that moment"
                          + (" (under qemu-user: emulator included)" if self.emulated else "")}


def host_arch() -> str:
    return _HOST_ARCH.get(host_platform.machine(), host_platform.machine())


def launcher(platform: Platform) -> Launch | None:
    """None when this machine cannot run the platform's binaries (no qemu-user for it)."""
    here = host_arch()
    if platform.arch == here or (here == "amd64" and platform.arch == "386"):
        return Launch((), False)
    qemu = shutil.which(f"qemu-{_QEMU_ARCH.get(platform.arch, platform.arch)}-static") or \
        shutil.which(f"qemu-{_QEMU_ARCH.get(platform.arch, platform.arch)}")
    return Launch((qemu,), True) if qemu else None


def _memory(pid: int) -> tuple[int | None, int | None]:
    peak = anon = None
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
                elif line.startswith("RssAnon:"):
                    anon = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return peak, anon


def _cpu_seconds(pid: int) -> float | None:
    """The main thread's CPU time so far (/proc/PID/schedstat, nanoseconds)."""
    try:
        with open(f"/proc/{pid}/schedstat") as fh:
            return int(fh.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name} before Go's runtime started"
    return f"exited with status {os.waitstatus_to_exitcode(status)} before Go's runtime started"


class _Ptrace:
    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.call = libc.ptrace
        self.call.restype = ctypes.c_long
        self.call.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]

    def cont(self, pid: int, sig: int = 0) -> None:
        self.call(PTRACE_CONT, pid, None, ctypes.c_void_p(sig))


# The child stops itself, is seized, and is traced from its exec on. No preexec_fn (unsafe in a threaded
# parent such as compare's build pool): Popen keeps its vfork/posix_spawn path.
_STOP_THEN_EXEC = 'kill -STOP $$; exec "$0"'


def _native(path: Path, deadline: float) -> StartSample:
    pt = _Ptrace()
    proc = subprocess.Popen(["/bin/sh", "-c", _STOP_THEN_EXEC, str(path.resolve())], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/", env={})
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill(proc.pid)

    watchdog = threading.Timer(deadline, expire)
    watchdog.start()
    tids = [proc.pid]
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            return StartSample(False, reason=f"could not start /bin/sh to launch it ({_exit_reason(status)})")
        options = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL
        if pt.call(PTRACE_SEIZE, proc.pid, None, ctypes.c_void_p(options)) != 0:
            return StartSample(False, reason=f"ptrace refused (errno {ctypes.get_errno()})")
        os.kill(proc.pid, signal.SIGCONT)
        t0: float | None = None
        cpu0 = 0.0
        while True:
            _, status = os.waitpid(proc.pid, WALL)
            if not os.WIFSTOPPED(status):
                if expired.is_set():
                    return StartSample(False, reason=f"did not reach Go's runtime within {deadline:.0f} s")
                if t0 is None:
                    return StartSample(False, reason=f"could not be executed (status {os.waitstatus_to_exitcode(status)})")
                return StartSample(False, reason=_exit_reason(status))
            event = status >> 16
            if event == PTRACE_EVENT_EXEC:
                t0 = time.perf_counter()
                cpu0 = _cpu_seconds(proc.pid) or 0.0  # the shell's own CPU before exec is not the program's
            elif event == PTRACE_EVENT_CLONE and t0 is not None:
                elapsed = time.perf_counter() - t0
                msg = ctypes.c_ulong(0)
                if pt.call(PTRACE_GETEVENTMSG, proc.pid, None, ctypes.byref(msg)) == 0 and msg.value:
                    tids.append(int(msg.value))
                peak, anon = _memory(proc.pid)
                cpu = _cpu_seconds(proc.pid)
                return StartSample(True, elapsed, peak, anon, cpu_seconds=cpu - cpu0 if cpu is not None else None)
            sig = os.WSTOPSIG(status)
            pt.cont(proc.pid, sig if event == 0 and sig not in (signal.SIGTRAP, signal.SIGSTOP) else 0)
    finally:
        watchdog.cancel()
        _kill(proc.pid)
        _reap(pt, tids)
        proc.returncode = -signal.SIGKILL  # reaped above; keeps Popen from waiting on a pid that is gone


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pt: _Ptrace, tids: list[int]) -> None:
    """Collect the killed tracee and its auto-attached first thread, by id: never another thread's child."""
    for tid in reversed(tids):
        while True:
            try:
                _, status = os.waitpid(tid, WALL)
            except ChildProcessError:
                break
            if os.WIFSTOPPED(status):
                pt.cont(tid)
                continue
            break


def _emulated(prefix: tuple[str, ...], path: Path, deadline: float) -> StartSample:
    t0 = time.perf_counter()
    proc = subprocess.Popen([*prefix, str(path.resolve())], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd="/", env={"QEMU_STRACE": "1"})
    assert proc.stderr is not None
    buf = b""
    try:
        end = t0 + deadline
        while time.perf_counter() < end:
            ready, _, _ = select.select([proc.stderr], [], [], max(0.0, end - time.perf_counter()))
            if not ready:
                break
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                status = proc.wait()
                return StartSample(False, reason=_exit_reason(_as_wait_status(status)))
            buf = (buf + chunk)[-4096:]
            if b" clone(" in buf and b"CLONE_THREAD" in buf:
                elapsed = time.perf_counter() - t0
                peak, anon = _memory(proc.pid)
                return StartSample(True, elapsed, peak, anon, cpu_seconds=_cpu_seconds(proc.pid))
        return StartSample(False, reason=f"did not reach Go's runtime within {deadline:.0f} s (emulated)")
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()


def _as_wait_status(returncode: int) -> int:
    return (-returncode) & 0x7F if returncode < 0 else (returncode & 0xFF) << 8


def first_thread(path: Path, launch: Launch) -> StartSample:
    """One start of the binary, ended at Go's runtime.main."""
    if launch.emulated:
        return _emulated(launch.prefix, path, EMULATED_DEADLINE_S)
    return _native(path, DEADLINE_S)


def measure_cost(unpacked: Path, packed: Path, launch: Launch, runs: int = 5) -> tuple[StartCost | None, str]:
    """Alternate unpacked and packed starts (so machine load hits both alike); medians. ('', reason) on failure."""
    samples: dict[str, list[StartSample]] = {"u": [], "p": []}
    for _ in range(runs):
        for key, path in (("u", unpacked), ("p", packed)):
            s = first_thread(path, launch)
            if not s.started:
                which = "packed" if key == "p" else "unpacked"
                return None, f"the {which} binary did not start: {s.reason}"
            samples[key].append(s)

    def med(key: str, attr: str) -> float:
        return statistics.median(getattr(s, attr) or 0 for s in samples[key])

    return StartCost(runs, launch.emulated, round(med("u", "seconds") * 1000, 2), round(med("p", "seconds") * 1000, 2),
                     int(med("u", "peak_rss_bytes")), int(med("p", "peak_rss_bytes")),
                     int(med("u", "private_bytes")), int(med("p", "private_bytes")),
                     round(med("u", "cpu_seconds") * 1000, 2), round(med("p", "cpu_seconds") * 1000, 2)), ""
