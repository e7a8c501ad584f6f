"""An output file slimgo wrote, remembered so that the same bytes are not written over themselves.

An unchanged rebuild used to write its tarball again: caddy's is 19 MiB, and replacing it (a copy into a
temporary file, then a rename that frees the old file's blocks) was 25 ms of a 0.5 s rebuild, after `go
build`, on its critical path. What a tarball holds is decided by its items (the blobs by digest, the other
files by their bytes) and by the writer; so after each write the items' key and the file's identity (device,
inode, size, modification and change times in nanoseconds) are noted in slimgo's cache. When the next write
has the same key and the file is still that very file, it is left as it is and only touched, as Go touches an
up-to-date binary, so that make-style tools see it as new. Anything done to the file since (an edit, a
`touch`, a copy over it, a rename) changes its change time or inode, and it is written again; on a file system
that keeps times to the second, a file changed in the last 2 s is not noted (the same second could hide an edit).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..cachedir import replace_quietly
from ..filestamp import same_file, settled, stamp
from .content import FileItem

RECORD_VERSION = "slimgo-written-v1"
_MAX_RECORD = 4096


def items_key(kind: str, items: list[FileItem], writer: str) -> str:
    """What decides the output's bytes: the writer (its kind, slimgo's version, the writer's own version
    string) and each item's path and content (a blob's path names its digest; other items are hashed)."""
    h = hashlib.sha256(f"{RECORD_VERSION}\0{kind}\0{__version__}\0{writer}\n".encode())
    for item in items:
        content = hashlib.sha256(item.data).hexdigest() if item.data is not None else f"blob:{item.path}"
        h.update(f"{item.path}\0{content}\n".encode())
    return h.hexdigest()


def _identity(path: Path) -> str | None:
    try:
        return stamp(path, follow_symlinks=False)
    except OSError:
        return None


@dataclass(frozen=True)
class WrittenFiles:
    """The records, one per output path, in `root` (slimgo's cache). A record that cannot be read or
    written costs a write of the output, nothing else."""

    root: Path

    def _record(self, dest: Path) -> Path:
        return self.root / hashlib.sha256(os.path.abspath(dest).encode("utf-8", "surrogateescape")).hexdigest()[:32]

    def unchanged(self, dest: Path, key: str) -> bool:
        """dest is the file slimgo wrote from items with this key, untouched since."""
        return self._matching(dest, key) is not None

    def _matching(self, dest: Path, key: str) -> str | None:
        """dest's identity, when the record says it was written from items with this key; else None."""
        try:
            fd = os.open(self._record(dest), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            data = os.read(fd, _MAX_RECORD)
        except OSError:
            return None
        finally:
            os.close(fd)
        identity = _identity(dest)
        return identity if identity is not None and data.decode("utf-8", "replace") == f"{key}\n{identity}\n" else None

    def touch(self, dest: Path, key: str) -> bool:
        """When dest is unchanged (as `unchanged` says), mark it as new (its times) and note its identity again.
        False when it is not unchanged, when that failed, or when dest is no longer the file the record names
        (another build renamed its own over it meanwhile): then the caller writes it."""
        identity = self._matching(dest, key)
        if identity is None:
            return False
        try:
            os.utime(dest, follow_symlinks=False)
            now = os.lstat(dest)
        except OSError:
            return False
        if not same_file(identity, now):
            return False
        self.note(dest, key, now)
        return True

    def note(self, dest: Path, key: str, written: os.stat_result | None = None) -> None:
        """After dest was written from items with this key; `written`: the file as it was written (a stat of
        it), and the record is made only while dest is still that file, not one a concurrent build renamed
        over it since."""
        identity = _identity(dest)
        if identity is not None and ((written is not None and not same_file(identity, written))
                                     or not settled(identity, time.time_ns())):
            identity = None
        record = self._record(dest)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if identity is None:
                record.unlink(missing_ok=True)
                return
        except OSError:
            return
        replace_quietly(str(record), f"{key}\n{identity}\n".encode())
