"""The files of a link-output slot (gobuild/outputs.py), handled with nothing but os: the entry point checks
a slot's binary before it starts the last `go build` into it (gobuild/rerun.py), before pathlib and the rest
of slimgo are imported."""

from __future__ import annotations

import os
import stat
import struct

# The slot's lock file sits beside the binaries, so it has a name no binary can have: Go names a binary after
# the last element of its import path, and Go ignores a directory whose name starts with "." (no package).
LOCK_NAME = ".lock"
# The `go build` each command line ran last (gobuild/rerun.py), beside the slots: a name no slot has (hex).
RECIPES = ".rerun"

def still_there(fd: int, path: str | os.PathLike[str]) -> bool:
    """The lock file this build holds is still the slot's (trim() did not remove the slot meanwhile)."""
    try:
        return os.fstat(fd).st_ino == os.stat(path, follow_symlinks=False).st_ino
    except OSError:
        return False


def remove(path: str | os.PathLike[str]) -> None:
    """A directory with all it holds (never through a link), else the file or the link itself."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def whole(path: str | os.PathLike[str]) -> bool:
    """A regular ELF file that reaches the end of its last section: whole, even if Go copied it into place (it
    does when the directory is setgid) instead of renaming it there, and was stopped part way. Go writes its
    section headers near the start; its build ID too, so Go itself takes a cut file for up to date. Never
    through a link (O_NOFOLLOW), never blocking on a FIFO or a device (O_NONBLOCK, then only a regular file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        head = os.pread(fd, 64, 0)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] not in (1, 2) or head[5] not in (1, 2):
            return False
        e, wide = ("<" if head[5] == 1 else ">"), head[4] == 2
        shoff = int(struct.unpack_from(e + ("Q" if wide else "I"), head, 0x28 if wide else 0x20)[0])
        shentsize, shnum = struct.unpack_from(e + "HH", head, 0x3A if wide else 0x2E)
        if not shoff or shnum > 4096 or shentsize < (64 if wide else 40):
            return False
        table = os.pread(fd, shentsize * shnum, shoff)
        size = os.fstat(fd).st_size
    except OSError:
        return False
    finally:
        os.close(fd)
    if len(table) < shentsize * shnum:
        return False
    end = 0
    for i in range(shnum):
        kind = struct.unpack_from(e + "I", table, i * shentsize + 4)[0]
        if kind != 8:  # SHT_NOBITS takes no room in the file
            off, length = struct.unpack_from(e + ("QQ" if wide else "II"), table, i * shentsize + (0x18 if wide else 0x10))
            end = max(end, int(off) + int(length))
    return size >= end
