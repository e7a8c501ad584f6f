"""Compile one main package for one platform."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import BadInput, CompileError, ToolMissing
from ..platform import Platform
from ..strategy import GoFlags
from .outputs import LinkOutputs, take
from .rerun import Recipe, Rerun
from .slotfile import remove, whole
from .target import Target
from .toolchain import Toolchain


@dataclass(frozen=True)
class BuiltBinary:
    path: Path
    name: str
    platform: Platform
    flags: GoFlags
    seconds: float
    size: int  # measured when built: the file lives in a work directory that is removed afterwards
    head_start: float = 0.0  # how long Go had been running when the compile step took it over (gobuild/rerun.py)


class GoProcesses:
    """The Go processes of one build, so that a failure beside the compile (a registry check, an interrupt)
    stops them at once instead of waiting minutes for a build whose image will never be written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()
        self.stopped = False

    def add(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._running.add(proc)
            if self.stopped:
                kill_tree(proc)

    def discard(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._running.discard(proc)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            for proc in self._running:
                kill_tree(proc)


def kill_tree(proc: subprocess.Popen[str]) -> None:
    """Go runs compile and link as children that share its stderr: killing `go` alone leaves them working
    (and the pipe open) until their package is done, so its whole process group goes (see `_run`)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


class Stopped(Exception):
    """The compile was stopped by `GoProcesses.stop`: its caller already has the reason."""


_PROXY = re.compile(r"(?P<modver>[^\s:]+@[^\s:]+): reading (?P<url>\S+): (?P<status>\d{3}[^\n]*)")
_CGO_IMPORT = re.compile(r'^\s*import\s+(?:"C"|\(\s*"C")', re.M)


def cgo_files(package_dir: Path | None) -> list[str]:
    """The package's .go files that `import "C"` (they need cgo), by name."""
    if package_dir is None or not package_dir.is_dir():
        return []
    out = []
    for f in sorted(package_dir.glob("*.go")):
        try:
            if _CGO_IMPORT.search(f.read_text(errors="replace")):
                out.append(f.name)
        except OSError:
            continue
    return out


def classify_failure(stderr: str, target: Target, cgo_off: bool = True) -> Exception:
    """Go's stderr → the one-line error (exit 1 for a compile error, else 2); BuildKit's failed step too."""
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip() and not ln.startswith("go: downloading")]
    last = lines[-1] if lines else "go build failed"
    proxy = _PROXY.search(stderr)
    if proxy:  # keep what Go said: module, version, and the proxy's HTTP status
        response = re.search(r"server response:\s*(.+)", stderr)
        return BadInput(f"cannot build {target.spec}: {proxy.group('modver')}: the module proxy answered "
                        f"{proxy.group('status').strip()}" + (f" ({response.group(1).strip()})" if response else ""))
    if cgo_off and "build constraints exclude all Go files" in stderr:
        uses = cgo_files(target.package_dir)
        if uses:
            return BadInput(f"{target.spec}: the package uses cgo (import \"C\" in {', '.join(uses[:3])}) and "
                            "slimgo builds with CGO_ENABLED=0; turn cgo on with --env CGO_ENABLED=1 (or build.env "
                            "in .slimgo.yaml) and use a base with its C library")
    if target.remote:
        first = next((ln for ln in lines if ln.startswith("go: ")), last).removeprefix("go: ").strip()
        # Go names the module@version first; the message already does
        return BadInput(f"cannot build {target.spec}: {first.removeprefix(f'{target.spec}: ')}")
    # The compiler prefixes its report with "# package"; anything else is about resolving the target.
    if any(ln.startswith("# ") for ln in lines) or any(".go:" in ln for ln in lines):
        lines = [_from_here(ln, target.package_dir) for ln in lines]
        first = next((ln for ln in lines if ".go:" in ln), last)
        failed = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), target.package)
        report = "\n".join(ln.rstrip() for ln in lines if not _progress_line(ln))  # -v's package names are progress
        return CompileError(f"compile error in {failed}: {first.strip()}", detail=report)
    return BadInput(f"cannot build {target.spec}: {last.strip()}")


_GO_POSITION = re.compile(r"^(?P<path>[^\s:]+\.go)(?P<rest>:\d+.*)$", re.S)


def _from_here(line: str, package_dir: Path | None) -> str:
    """Go runs in the package's directory, so it names files from there (`../../httpbin/x.go:3:1`); they are
    named from the user's directory instead, as `go build ./cmd/x` would: relative below it, else absolute."""
    m = _GO_POSITION.match(line)
    if m is None or package_dir is None or os.path.isabs(m["path"]):
        return line
    full = os.path.normpath(os.path.join(package_dir, m["path"]))
    try:
        if not os.path.isfile(full):
            return line  # not this machine's file (a remote builder's), or not a file at all
        rel = os.path.relpath(full, os.getcwd())
    except (OSError, ValueError):
        return line
    shown = full if rel.startswith("..") else rel if os.sep in rel else f".{os.sep}{rel}"
    return shown + m["rest"]


def compile_binary(toolchain: Toolchain, target: Target, flags: GoFlags, platform: Platform,
                   out_dir: Path, progress: Callable[[str], None] | None = None,
                   procs: GoProcesses | None = None, keep: LinkOutputs | None = None,
                   rerun: Rerun | None = None) -> BuiltBinary:
    """Build into out_dir/<platform>/<name>. Remote targets go through `go install pkg@version`, so the
    binary records the module version exactly as `go install` would. `progress` hears the phases as Go
    goes through them: downloading modules, compiling packages, linking. `keep`: where Go's output stays
    between builds, so that an unchanged program is not linked again (gobuild/outputs.py). `rerun`: the
    command line's last `go build`, started by the entry point; taken over when it is exactly this one
    (gobuild/rerun.py), and this one is written down for the next run."""
    dest_dir = out_dir / str(platform).replace("/", "_")
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / target.name
    added = {**platform.go_env(), **flags.go_env()}
    env = {**os.environ, **added}
    started = time.perf_counter()
    ahead = None
    if target.remote:
        _install_remote(toolchain, target, flags, platform, env, dest, progress, procs)
    else:
        stopped = (lambda: procs.stopped) if procs is not None else (lambda: False)
        def waiting() -> None:
            if progress is not None:
                progress(f"waiting for another slimgo build of {target.package} ({platform}) to finish with "
                         "its link output")

        slot_dir = keep.slot(target, flags, platform) if keep is not None else None
        ahead = rerun.adopt(_go_build(toolchain, flags, slot_dir / target.name), target.package_dir, env,
                            slot_dir) if rerun is not None and slot_dir is not None else None
        slot = keep.locked(slot_dir, stopped, waiting, ahead.lock_fd if ahead is not None else None) \
            if keep is not None and slot_dir is not None else contextlib.nullcontext(None)
        with slot as kept:
            if ahead is not None and kept is None:  # the slot went from under it: never take its output
                ahead.kill()
                ahead = None
            if kept is None:
                out = dest
            elif ahead is not None:
                out = kept / target.name  # the entry point checked it before Go started (rerun.start)
            else:
                out = _usable_output(kept / target.name)
            cmd = _go_build(toolchain, flags, out)
            proc = _run(cmd, target.package_dir, env, _phases(progress, target, platform), procs,
                        ahead.proc if ahead is not None else None)
            if proc.returncode != 0:
                raise classify_failure(proc.stderr, target, flags.cgo is False)
            if kept is not None and rerun is not None:
                rerun.remember(Recipe(cmd[0], tuple(cmd[1:]), str(target.package_dir), tuple(sorted(added.items())),
                                      str(kept)))
            if out != dest:
                take(out, dest)
    return BuiltBinary(dest, target.name, platform, flags, time.perf_counter() - started, dest.stat().st_size,
                       started - ahead.since if ahead is not None else 0.0)


def _go_build(toolchain: Toolchain, flags: GoFlags, out: Path) -> list[str]:
    return [toolchain.go, "build", "-v", *flags.go_args(), "-o", str(out), "."]


def _usable_output(path: Path) -> Path:
    """Go refuses to replace an output that is not an object file; whatever else sits in the slot (a
    directory, a planted file) goes, so the build links afresh instead of failing. So does an ELF file cut
    short (outputs.whole): Go reads the build ID near its start and would take it for up to date. So does
    anything but a regular file, a symlink above all: Go copies its output through one (into a setgid
    directory), writing wherever the link points."""
    try:
        path.lstat()
    except FileNotFoundError:
        return path
    except OSError:
        pass
    if not whole(path):  # only a regular file is opened, never through a link, a device or a FIFO
        remove(path)
    return path


def _progress_line(line: str) -> bool:
    """A bare import path, as `go build -v` prints each package it builds (Go's reports have ':' or '# ')."""
    text = line.strip()
    return bool(text) and " " not in text and ":" not in text and not text.startswith("#")


def _phases(progress: Callable[[str], None] | None, target: Target,
            platform: Platform) -> Callable[[str], None] | None:
    """Turn `go build -v` stderr lines into phase messages: downloading, compiling, linking."""
    if progress is None:
        return None
    return package_phases(progress, platform, {target.package: target.name, "command-line-arguments": target.name})


def package_phases(report: Callable[[str], None], platform: Platform, mains: dict[str, str]) -> Callable[[str], None]:
    """`go build -v` lines → phase messages; `mains`: the main packages' import paths → binary names (-v names a
    main package as its compile starts; its link follows)."""

    def on_line(line: str) -> None:
        text = line.strip()
        if text.startswith("go: downloading "):
            report(f"downloading {text.removeprefix('go: downloading ')} ({platform})")
        elif text in mains:
            report(f"compiling {text}, then linking {mains[text]} ({platform})")
        elif _progress_line(text):
            report(f"compiling {text} ({platform})")

    return on_line


def _run(cmd: list[str], cwd: Path | None, env: dict[str, str], on_line: Callable[[str], None] | None = None,
         procs: GoProcesses | None = None, running: subprocess.Popen[str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    """Run Go, streaming its stderr lines to `on_line` while keeping them for the error message. `running`:
    this very command, already started (gobuild/rerun.py)."""
    try:
        proc = running or subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True, start_new_session=True)  # its own group: see kill_tree
    except FileNotFoundError:
        raise ToolMissing(f"{cmd[0]}: not found") from None
    assert proc.stderr is not None and proc.stdout is not None
    if procs is not None:
        procs.add(proc)
    lines = []
    try:
        for line in proc.stderr:
            lines.append(line)
            if on_line is not None:
                on_line(line)
        out = proc.stdout.read()
        code = proc.wait()
    finally:
        if proc.poll() is None:
            kill_tree(proc)
            proc.wait()
        proc.stderr.close()
        proc.stdout.close()
        if procs is not None:
            procs.discard(proc)
    if procs is not None and procs.stopped:
        raise Stopped(cmd[0])
    return subprocess.CompletedProcess(cmd, code, out, "".join(lines))


def _install_remote(toolchain: Toolchain, target: Target, flags: GoFlags, platform: Platform,
                    env: dict[str, str], dest: Path, progress: Callable[[str], None] | None,
                    procs: GoProcesses | None = None) -> None:
    # go install refuses GOBIN for cross builds, so point GOPATH at a scratch dir (keeping the real module
    # cache) and pick the binary up from bin/ or bin/GOOS_GOARCH/.
    facts = toolchain.env("GOMODCACHE", "GOPATH")
    with tempfile.TemporaryDirectory(prefix="slimgo-gopath-") as gopath:
        env = {**env, "GOPATH": gopath, "GOMODCACHE": facts["GOMODCACHE"]}
        env.pop("GOBIN", None)
        cmd = [toolchain.go, "install", "-v", *flags.go_args(), f"{target.package}@{target.version}"]
        proc = _run(cmd, Path(gopath), env, _phases(progress, target, platform), procs)
        if proc.returncode != 0:
            raise classify_failure(proc.stderr, target, flags.cgo is False)
        candidates = [Path(gopath, "bin", target.name),
                      Path(gopath, "bin", f"{platform.os}_{platform.arch}", target.name)]
        built = next((c for c in candidates if c.is_file()), None)
        if built is None:
            raise BadInput(f"{target.spec}: go install produced no binary (is it a main package?)")
        shutil.move(str(built), dest)
