"""Where a local `go build` leaves its binary between runs, so that an unchanged program is not linked again.

Go decides that a program is up to date by reading the build ID inside the existing `-o` file
(cmd/go's `useCache`). A fresh work directory per build never has that file, so every build linked again:
0.45 s of the 0.58 s an unchanged node_exporter build took, seconds on caddy. One slot per package,
flags and platform in slimgo's cache keeps that file. Go itself decides whether it is current (the build ID
covers the toolchain, the flags and every source), so the slot's key only has to keep unrelated builds
from overwriting each other's outputs; a wrong or planted file there costs a link, never a wrong binary.

The build takes a hard link (a copy across file systems) of the slot's file into its own work directory,
under the slot's lock: Go replaces the slot's file rather than writing into it, so a later or concurrent
build that links again never changes the bytes this build is still reading.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..cachedir import link_dir
from ..platform import Platform
from ..strategy import GoFlags
from .slotfile import LOCK_NAME, RECIPES, still_there
from .target import Target

KEY_VERSION = "slimgo-link-v2"  # v2: the lock is `.lock` (v1's `lock` was also the name of a program `…/lock`)
# Slots not used for five days are removed, checked at most once a day: the rule Go applies to its own build
# cache (cmd/go/internal/cache: trimLimit, trimInterval). Each slot holds a whole binary per platform and
# flag set (55 MiB for caddy), so without it the directory only grows.
TRIM_UNUSED_FOR = 5 * 24 * 3600
TRIM_EVERY = 24 * 3600
TRIM_MARKER = "trimmed"


@dataclass(frozen=True)
class LinkOutputs:
    root: Path  # e.g. ~/.cache/slimgo/link

    def slot(self, target: Target, flags: GoFlags, platform: Platform) -> Path:
        where = str(target.package_dir.resolve()) if target.package_dir is not None else target.spec
        return self._slot(where, target.package, flags, platform)

    def module_slot(self, module_dir: Path, flags: GoFlags, platform: Platform) -> Path:
        """The directory a module's combined build (`go build -o DIR/ pkg…`, gobuild/batch.py) writes into."""
        return self._slot(str(module_dir.resolve()), "", flags, platform)

    def _slot(self, where: str, package: str, flags: GoFlags, platform: Platform) -> Path:
        material = "\0".join((KEY_VERSION, where, package, flags.command_line(), str(platform)))
        return self.root / hashlib.sha256(material.encode()).hexdigest()[:32]

    @contextlib.contextmanager
    def locked(self, slot: Path, stopped: Callable[[], bool] = lambda: False,
               waiting: Callable[[], None] = lambda: None, held: int | None = None) -> Iterator[Path | None]:
        """The slot directory, locked against other slimgo builds; None when the cache cannot be written
        (a read-only home, a full disk): the build then links in its work directory, as before. While another
        build holds the slot, this one waits, but not past `stopped()` (an interrupt, a failed check, see
        gobuild.build.GoProcesses): it gets None then, and its `go build`, started stopped, ends at once.
        `waiting` is told once when the slot is held by another build, so the user knows why nothing moves.
        `held`: the slot's lock file, already locked (gobuild.rerun started Go under it); closed here."""
        if held is None:
            try:
                slot.mkdir(parents=True, exist_ok=True)
                if slot.is_symlink():  # not made by slimgo: Go would write into wherever it points
                    raise NotADirectoryError(errno.ENOTDIR, "the link outputs' slot is a symlink", str(slot))
                fd = os.open(slot / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            except OSError:
                yield None
                return
        else:
            fd = held
        try:
            ours = (held is not None or _lock(fd, stopped, waiting)) and still_there(fd, slot / LOCK_NAME)
            if ours:
                with contextlib.suppress(OSError):
                    os.utime(fd)  # the slot's last use, which trim() reads
            yield slot if ours else None
        finally:
            os.close(fd)  # closing releases the lock

    def trim(self, now: float | None = None) -> list[Path]:
        """Remove the slots unused for TRIM_UNUSED_FOR, at most once per TRIM_EVERY; returns what went.
        A slot is removed only under its own lock (a build using it is never disturbed); a build that
        opened its lock file just before is told by `still_there` and links in its work directory."""
        now = time.time() if now is None else now
        marker = self.root / TRIM_MARKER
        try:
            if now - marker.stat().st_mtime < TRIM_EVERY:
                return []
        except FileNotFoundError:
            pass
        except OSError:
            return []
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            marker.touch()
            os.utime(marker, (now, now))
            slots = [p for p in self.root.iterdir() if p.name not in (TRIM_MARKER, RECIPES)]
        except OSError:
            return []
        _remove_unused_recipes(self.root / RECIPES, now - TRIM_UNUSED_FOR)
        return [slot for slot in slots if _remove_if_unused(slot, now - TRIM_UNUSED_FOR)]


def link_root() -> Path:
    """Where the slots live: slimgo's cache (SLIMGO_CACHE, else the user's cache directory)."""
    return Path(link_dir())


def _remove_unused_recipes(recipes: Path, before: float) -> None:
    """A recipe is rewritten by every build that uses it: one untouched for days belongs to a command line
    nobody runs any more (its slot goes with the same rule). A remembered `go list` answer (gobuild/listing.py)
    is not rewritten when used: removed, it costs one `go list`."""
    with contextlib.suppress(OSError):
        for recipe in recipes.iterdir():
            with contextlib.suppress(OSError):
                if recipe.lstat().st_mtime < before:
                    recipe.unlink()


def _remove_if_unused(slot: Path, before: float) -> bool:
    if slot.is_symlink() or not slot.is_dir():
        return False  # not a slot slimgo made: left alone
    try:
        fd = os.open(slot / LOCK_NAME, os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        if os.fstat(fd).st_mtime >= before:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a build is using it right now
        shutil.rmtree(slot, ignore_errors=True)
        return not slot.exists()
    finally:
        os.close(fd)


def _lock(fd: int, stopped: Callable[[], bool], waiting: Callable[[], None] = lambda: None) -> bool:
    """Wait for the lock in short turns, not in one blocking call: a thread blocked in flock hears no
    interrupt, and the build's pool would wait for it until the other build let go (minutes)."""
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if stopped():
                return False
            if not told:
                waiting()
                told = True
            time.sleep(0.05)


def take(source: Path, dest: Path) -> None:
    """`dest` becomes this build's own name for the slot's binary: a hard link, or a copy across devices."""
    dest.unlink(missing_ok=True)
    try:
        os.link(source, dest)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(source, dest)
