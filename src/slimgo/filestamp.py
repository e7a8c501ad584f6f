"""A file's stamp: what a cached answer about a file is kept under, so that any change to the file is seen.

The stamp is the file's device, inode, size, modification and change times in nanoseconds, and mode: an edit,
a `touch` (the change time moves even when the modification time is set back), a copy or rename over it all
give another. On a file system that keeps times to whole seconds (ext4 with 128-byte inodes, ext3, HFS+, FAT)
an edit later in the same second, of the same size, would leave the same stamp; such a file is not `settled`
until 2 s have passed, as Go's module index waits. Only os is imported: the entry point uses this before
`go build` starts (gobuild/listing.py); the tarball's record uses it too (sinks/written.py).
"""

from __future__ import annotations

import os

SETTLE_NS = 2_000_000_000


def stamp(path: str | os.PathLike[str], follow_symlinks: bool = True) -> str | None:
    """The stamp of the file at path; None when there is none (other errors are the caller's)."""
    try:
        st = os.stat(path, follow_symlinks=follow_symlinks)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_mode}"


def settled(file_stamp: str, now_ns: int) -> bool:
    """No change to the file can hide behind this stamp: its change time has a fraction of a second, or it is
    at least 2 s old."""
    ctime = int(file_stamp.split(":")[4])
    return ctime % 1_000_000_000 != 0 or ctime <= now_ns - SETTLE_NS


def same_file(file_stamp: str, st: os.stat_result) -> bool:
    """The stamp names the file st is a stat of (device and inode)."""
    return file_stamp.split(":", 2)[:2] == [str(st.st_dev), str(st.st_ino)]
