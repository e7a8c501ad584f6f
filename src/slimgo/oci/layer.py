"""Reproducible layer tarballs.

Every TarInfo is built by hand: integer mtime (SOURCE_DATE_EPOCH or 0), fixed uid/gid, empty
uname/gname, sorted entries with parents first, modes as given. The tar is hashed (diff_id), compressed
and hashed again (digest) in one streaming pass, straight into a blob file.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, cast

from ..errors import BadInput
from . import compress
from .mediatypes import LAYER_BY_COMPRESSION
from .model import Descriptor, Layer

CHUNK = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One path in a layer. `path` is relative to / with no leading slash."""

    path: str
    kind: str = "file"  # file | dir | symlink | hardlink (linkname: the earlier path, no leading slash)
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    data: bytes | None = None
    source: Path | None = None
    linkname: str = ""

    def size(self) -> int:
        if self.kind != "file":
            return 0
        if self.data is not None:
            return len(self.data)
        return self.source.stat().st_size if self.source else 0


def dir_entry(path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Entry:
    return Entry(path.strip("/"), "dir", mode, uid, gid)


def file_entry(path: str, data: bytes, mode: int = 0o644, uid: int = 0, gid: int = 0) -> Entry:
    return Entry(path.strip("/"), "file", mode, uid, gid, data=data)


def with_parents(entries: Iterable[Entry]) -> list[Entry]:
    """Add missing parent directories (0755, root) and sort parents first, so every tar is one shape."""
    by_path: dict[str, Entry] = {}
    for e in entries:
        norm = str(PurePosixPath("/", e.path)).lstrip("/")
        if not norm or ".." in PurePosixPath(norm).parts:
            raise BadInput(f"layer path {e.path!r} escapes the image root")
        by_path[norm] = Entry(norm, e.kind, e.mode, e.uid, e.gid, e.data, e.source, e.linkname)
    for norm in list(by_path):
        parent = PurePosixPath(norm).parent
        while str(parent) not in (".", ""):
            by_path.setdefault(str(parent), dir_entry(str(parent)))
            parent = parent.parent
    return [by_path[k] for k in sorted(by_path, key=lambda p: PurePosixPath(p).parts)]


def tree_entries(root: Path, dest: str, *, uid: int = 0, gid: int = 0) -> list[Entry]:
    """A directory from disk, placed at `dest`. Modes are normalised (0755 dirs and executables, 0644
    files): the build machine's umask must not change the digest. Links outside the tree are refused."""
    if not root.is_dir():
        raise BadInput(f"{root}: data directory does not exist")
    out = [dir_entry(dest, uid=uid, gid=gid)]
    base = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(root)
        for name in sorted(dirnames) + sorted(filenames):
            full = Path(dirpath, name)
            rel = str(PurePosixPath(dest, rel_dir.as_posix(), name)).replace("/./", "/")
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(full)
                resolved = (full.parent / target).resolve()
                if os.path.isabs(target) or not resolved.is_relative_to(base):
                    raise BadInput(f"{full}: symlink points outside the data directory")
                out.append(Entry(rel, "symlink", 0o777, uid, gid, linkname=target))
            elif stat.S_ISDIR(st.st_mode):
                out.append(dir_entry(rel, uid=uid, gid=gid))
            elif stat.S_ISREG(st.st_mode):
                mode = 0o755 if st.st_mode & 0o111 else 0o644
                out.append(Entry(rel, "file", mode, uid, gid, source=full))
            else:
                raise BadInput(f"{full}: not a regular file, directory or symlink")
    return out


class _HashingSink(io.RawIOBase):
    """A write-only stream that hashes, counts and compresses what tarfile writes to it."""

    def __init__(self, out: BinaryIO, kind: str, level: int, library: str = "zlib") -> None:
        self.out = out
        self.raw_hash = hashlib.sha256()
        self.raw_size = 0
        self.comp_hash = hashlib.sha256()
        self.comp_size = 0
        self._comp = compress.compressor(kind, level, library)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.raw_hash.update(data)
        self.raw_size += len(data)
        self._emit(self._comp.compress(bytes(data)))
        return len(data)

    def _emit(self, chunk: bytes) -> None:
        if chunk:
            self.comp_hash.update(chunk)
            self.comp_size += len(chunk)
            self.out.write(chunk)

    def finish(self) -> None:
        self._emit(self._comp.flush())


def _tarinfo(e: Entry, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(e.path)
    info.mtime = mtime
    info.mode = e.mode
    info.uid, info.gid = e.uid, e.gid
    info.uname = info.gname = ""
    if e.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif e.kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = e.linkname
    elif e.kind == "hardlink":
        info.type = tarfile.LNKTYPE
        info.linkname = e.linkname
    else:
        info.type = tarfile.REGTYPE
        info.size = e.size()
    return info


def write_tar(ordered: list[Entry], mtime: int, out: io.RawIOBase) -> None:
    """The one tar writer: `ordered` comes from with_parents, so the same entries give the same bytes."""
    buffered = io.BufferedWriter(out, buffer_size=CHUNK)
    with tarfile.open(fileobj=buffered, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for e in ordered:
            info = _tarinfo(e, mtime)
            if e.kind != "file":
                tar.addfile(info)
            elif e.data is not None:
                tar.addfile(info, io.BytesIO(e.data))
            else:
                assert e.source is not None
                with open(e.source, "rb") as src:
                    tar.addfile(info, src)
    buffered.flush()


def write_layer(entries: Iterable[Entry], blob_dir: Path, *, compression: str = "gzip", level: int | None = None,
                mtime: int = 0, comment: str = "", library: str = "zlib") -> Layer:
    """Write one layer as a blob file under blob_dir (named by its digest) and describe it."""
    level = compress.check(compression, level, library)
    ordered = with_parents(entries)
    blob_dir.mkdir(parents=True, exist_ok=True)
    tmp = blob_dir / f".layer-{os.getpid()}-{id(ordered)}.tmp"
    try:
        with open(tmp, "wb") as fh:
            sink = _HashingSink(fh, compression, level, library)
            write_tar(ordered, mtime, cast(io.RawIOBase, sink))
            sink.finish()
        digest = "sha256:" + sink.comp_hash.hexdigest()
        final = blob_dir / digest.split(":", 1)[1]
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    desc = Descriptor(LAYER_BY_COMPRESSION[compression], digest, sink.comp_size)
    return Layer(desc, "sha256:" + sink.raw_hash.hexdigest(), sink.raw_size, final, comment=comment)
