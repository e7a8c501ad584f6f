"""The programs of one `build ./...` compiled together: one `go build -o DIR/ pkg1 pkg2 …` per platform.

Each `go build` process loads the package graph and hashes every dependency's sources before it compiles
anything, and links its program alone; 20 programs x 2 platforms paid that 40 times. One process per
platform pays it once and links the programs in parallel. The binaries are the same bytes as each program's
own `go build` (same package, flags and toolchain; tests/integration/test_many.py checks the digests).

A program that does not compile must still fail alone, with its own error: Go goes on building the packages
that do not depend on the broken one, so whatever is missing from DIR afterwards is built again alone by the
caller (gobuild.build.compile_binary), which reports that program's error as a single build would. Two
programs with the same binary name would overwrite each other in DIR (Go does not refuse it): only the first
of a name is built together, the others alone. The name is the one Go gives the file (target.go_output_name),
which is not always the program's name in its image (`…/q/v1` is `v1` in DIR).

The combined build writes into its own slot of slimgo's cache (gobuild/outputs.py), so Go relinks only the
programs that changed. When it fails, a file Go did not write this time may be an older program's (Go can
stop before checking it): only the files it replaced are taken, and the others are built alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..platform import Platform
from ..strategy import GoFlags
from .build import BuiltBinary, GoProcesses, Stopped, _run, _usable_output, package_phases
from .outputs import LinkOutputs, take
from .slotfile import remove, whole
from .target import Target, go_output_name
from .toolchain import Toolchain

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Program:
    import_path: str
    module_dir: Path  # where `go build` runs: the module that holds the package


@dataclass(frozen=True)
class _Key:
    module_dir: Path
    flags: GoFlags
    platform: Platform


class _Run:
    """One combined build: where Go writes, what each output was before it started, and the files taken
    from it while it runs (Go renames each program into place as soon as it is linked)."""

    def __init__(self, mine: Path) -> None:
        self.mine = mine  # this session's own names for the binaries
        self.lock = threading.Lock()
        self.out: Path | None = None
        self.before: dict[str, tuple[int, int, int] | None] = {}
        self.taken: dict[str, Path] = {}
        self.future: Future[dict[str, Path]] = Future()

    def start(self, out: Path, names: dict[str, Path]) -> None:
        with self.lock:
            self.before = {pkg: _identity(path) for pkg, path in names.items()}
            self.out = out

    def replaced(self, pkg: str) -> Path | None:
        """The program's binary if Go has written it in this build (a new file in its place), taken."""
        with self.lock:
            if pkg in self.taken:
                return self.taken[pkg]
            if self.out is None:
                return None
            path = self.out / go_output_name(pkg)
            now = _identity(path)
            if now is None or now == self.before.get(pkg) or not whole(path):
                return None
            if self.out != self.mine:
                take(path, self.mine / path.name)
            self.taken[pkg] = self.mine / path.name
            return self.taken[pkg]


class Batches:
    """The combined builds of one session: the first program that asks for a (module, flags, platform)
    starts its `go build` for every program of that module; every program waits for it and takes its binary.

    The builds run on the session's threads with the session's `procs`, not a program's: one program
    failing (its registry refused, say) stops waiting at once, but never stops the others' compile; an
    interrupt reaches them through the session, and `close` ends whatever nobody waits for any more."""

    def __init__(self, programs: list[Program], out_dir: Path, procs: GoProcesses, progress: Progress) -> None:
        self._by_module: dict[Path, list[str]] = {}
        names: set[tuple[Path, str]] = set()
        for p in programs:
            name = (p.module_dir, go_output_name(p.import_path))
            if name not in names:  # a second program of this name is built alone (see the module docstring)
                names.add(name)
                self._by_module.setdefault(p.module_dir, []).append(p.import_path)
        self._out = out_dir
        self._procs = procs
        self._progress = progress
        self._lock = threading.Lock()
        self._builds: dict[_Key, _Run] = {}
        # one thread per platform (and module) being compiled: builds for different platforms share no package
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slimgo-together")

    def covers(self, target: Target) -> bool:
        """Built together when it is a local package of a module with at least two programs."""
        if target.remote or target.module_root is None:
            return False
        together = self._by_module.get(target.module_root.resolve(), [])
        return len(together) > 1 and target.package in together

    def binary(self, toolchain: Toolchain, target: Target, flags: GoFlags, platform: Platform, dest_dir: Path,
               keep: LinkOutputs | None = None, waiter: GoProcesses | None = None) -> BuiltBinary | None:
        """The target's binary from its module's combined build, linked into dest_dir/<platform>/; None when
        the combined build did not produce it (the caller builds it alone, for its own error). `keep`: where
        Go's outputs stay between builds, so unchanged programs are not linked again (gobuild/outputs.py).
        `waiter`: the asking program's processes; once they are stopped, it stops waiting (Stopped)."""
        assert target.module_root is not None
        key = _Key(target.module_root.resolve(), flags, platform)
        with self._lock:
            run = self._builds.get(key)
            if run is None:
                run = self._builds[key] = _Run(self._out / f"{len(self._builds)}-{str(platform).replace('/', '_')}")
                self._pool.submit(self._build, toolchain, key, keep, run)
        started = time.perf_counter()
        while True:  # the program goes on as soon as Go has linked it, not when the whole build ends
            try:
                built = run.future.result(timeout=0.05).get(target.package)
                break
            except FuturesTimeout:
                built = run.replaced(target.package)
                if built is not None:
                    break
                if waiter is not None and waiter.stopped:
                    raise Stopped(f"waiting for {key.module_dir}'s go build") from None
        if built is None:
            return None
        dest = dest_dir / str(platform).replace("/", "_") / target.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        take(built, dest)  # the program's work directory owns its name for it, as after its own build
        return BuiltBinary(dest, target.name, platform, flags, time.perf_counter() - started, dest.stat().st_size)

    def close(self) -> None:
        """Every program has ended: a combined build still running is wanted by none (they all failed)."""
        self._procs.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _build(self, toolchain: Toolchain, key: _Key, keep: LinkOutputs | None, run: _Run) -> None:
        try:
            run.future.set_result(self._built(toolchain, key, keep, run))
        except BaseException as exc:  # Stopped, or Go not found: every waiting program hears it
            run.future.set_exception(exc)

    def _built(self, toolchain: Toolchain, key: _Key, keep: LinkOutputs | None, run: _Run) -> dict[str, Path]:
        """Every program of the module that Go wrote or found up to date, as this session's own files."""
        packages = self._by_module[key.module_dir]
        run.mine.mkdir(parents=True)
        slot = contextlib.nullcontext(None) if keep is None else \
            keep.locked(keep.module_slot(key.module_dir, key.flags, key.platform), lambda: self._procs.stopped,
                        lambda: self._progress(f"waiting for another slimgo build of {key.module_dir}'s programs "
                                               f"({key.platform}) to finish with their link outputs"))
        with slot as kept:
            out = kept or run.mine
            names = {pkg: _usable_output(out / go_output_name(pkg)) for pkg in packages}
            scratch = _scratch(out)
            run.start(out, names)
            self._progress(f"compiling {len(packages)} programs in one go build ({key.platform})")
            env = {**os.environ, **key.platform.go_env(), **key.flags.go_env(), "GOTMPDIR": str(scratch)}
            cmd = [toolchain.go, "build", "-v", *key.flags.go_args(), "-o", f"{out}{os.sep}", *packages]
            phases = package_phases(self._progress, key.platform, {p: go_output_name(p) for p in packages})
            try:
                proc = _run(cmd, key.module_dir, env, phases, self._procs)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            # A failed build may have stopped before checking some programs: only the files Go wrote now
            # are known to be current then (it replaces a file, never writes into it: a new identity).
            built = {pkg: path for pkg in packages if (path := run.replaced(pkg)) is not None}
            if proc.returncode == 0:  # the others were up to date
                for pkg in packages:
                    if pkg not in built and names[pkg].is_file():
                        built[pkg] = run.mine / names[pkg].name
                        if out != run.mine:  # this session's own name: a later build may replace the slot's file
                            take(names[pkg], built[pkg])
        if proc.returncode != 0:
            self._progress(f"{len(packages) - len(built)} of {len(packages)} programs did not build together "
                           f"({key.platform}): building them alone")
        return built


def _scratch(out: Path) -> Path:
    """Go's work directory (GOTMPDIR) on the outputs' file system, so that it renames each binary into place
    (whole, at once) instead of copying it there while a waiting program may look. Inside the locked slot,
    under a name no binary has, and made afresh: what a killed build left there goes, and a link planted in
    its place would send Go's work, binaries included, wherever it points."""
    for stale in out.glob(".gotmp*"):
        remove(stale)
    return Path(tempfile.mkdtemp(prefix=".gotmp-", dir=out))


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns
