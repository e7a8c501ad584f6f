"""Unpack an image's layers into a root directory, as root, without ever leaving it.

The layers may come from a hostile base, and compare runs this as root, so the rule is structural rather
than a list of checks: every path is resolved one component at a time with `openat`-style calls
(`os.open(..., dir_fd=..., O_NOFOLLOW)`), starting from a descriptor of the root. A symlink already in the
tree is never followed: an entry whose parent is a symlink is refused, and the entry itself is created,
replaced, chmod-ed and chown-ed relative to its parent's descriptor without following it. Whiteouts are
applied the same way; an opaque whiteout removes what lower layers put in its directory and keeps what
its own layer put there (OCI image spec). `./` and names like `..data` are legal; a `..` component is not.
Total bytes and entries are bounded (`limits.UnpackLimits`), so a gzip bomb stops at the limit.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from ..errors import ImageFormatError
from ..limits import DEFAULT_UNPACK, UnpackLimits
from .files import OPAQUE, WHITEOUT, _Budget, layer_tar
from .local import SourceLayer, forget_members

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20


def _parts(name: str, what: str) -> tuple[str, ...]:
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise ImageFormatError(f"{what}: entry {name!r} escapes the image root")
    return parts


class _Root:
    """Descriptor-relative operations under one root directory.

    The descriptor of the last parent directory is kept for the next entry (tars list a directory's
    entries together). This is safe with one slot: a directory is only ever removed as the child of the
    parent being worked in, so the kept descriptor is never that of a removed directory.
    """

    def __init__(self, root: Path, what: str) -> None:
        self.fd = os.open(root, DIR_FLAGS)
        self.what = what
        self._last: tuple[tuple[str, ...], int] | None = None

    def close(self) -> None:
        self._drop_last()
        os.close(self.fd)

    def _drop_last(self) -> None:
        if self._last is not None and self._last[1] != self.fd:
            os.close(self._last[1])
        self._last = None

    def _walk(self, prefix: tuple[str, ...], parts: tuple[str, ...], create: bool) -> int:
        cur = self.fd
        try:
            for comp in prefix:
                try:
                    nxt = os.open(comp, DIR_FLAGS, dir_fd=cur)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(comp, 0o755, dir_fd=cur)
                    nxt = os.open(comp, DIR_FLAGS, dir_fd=cur)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise ImageFormatError(f"{self.what}: entry {'/'.join(parts)!r} goes through a "
                                               f"symlink or a file ({comp!r})") from None
                    raise
                if cur != self.fd:
                    os.close(cur)
                cur = nxt
        except BaseException:
            if cur != self.fd:
                os.close(cur)
            raise
        return cur

    @contextlib.contextmanager
    def parent(self, parts: tuple[str, ...], *, create: bool, keep: bool = True) -> Iterator[int]:
        """A descriptor of the directory holding parts[-1], walked without following any symlink.
        `keep=False` for a walk nested inside another one (hard links), which must not replace the slot."""
        prefix = parts[:-1]
        if keep and self._last is not None and self._last[0] == prefix:
            yield self._last[1]
            return
        fd = self._walk(prefix, parts, create)
        if keep:
            self._drop_last()
            self._last = (prefix, fd)
            yield fd
            return
        try:
            yield fd
        finally:
            if fd != self.fd:
                os.close(fd)


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _remove(dir_fd: int, name: str) -> None:
    st = _lstat(dir_fd, name)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)  # fd-based on Linux: never follows a symlink inside
    else:
        os.unlink(name, dir_fd=dir_fd)


def _chown(dir_fd: int, name: str, uid: int, gid: int) -> None:
    with contextlib.suppress(PermissionError):  # unprivileged unpacking keeps the caller's ids
        os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)


def _clear_lower(dir_fd: int, prefix: tuple[str, ...], created: set[tuple[str, ...]]) -> None:
    """Opaque whiteout: remove everything under dir_fd that this layer did not create."""
    for name in os.listdir(dir_fd):
        path = prefix + (name,)
        if path not in created:
            _remove(dir_fd, name)
            continue
        st = _lstat(dir_fd, name)
        if st is not None and stat.S_ISDIR(st.st_mode):
            child = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            try:
                _clear_lower(child, path, created)
            finally:
                os.close(child)


def _created(created: set[tuple[str, ...]], parts: tuple[str, ...]) -> None:
    """Record an entry of this layer, and its directories: an opaque whiteout later in the layer keeps
    them (it only clears what lower layers left), even when the tar lists no entry for a parent."""
    for i in range(len(parts), 0, -1):
        if parts[:i] in created:
            return
        created.add(parts[:i])


def _write_file(dir_fd: int, name: str, m: tarfile.TarInfo, src: IO[bytes] | None) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as out:
        if src is not None:
            shutil.copyfileobj(src, out, CHUNK)
        os.fchmod(out.fileno(), m.mode & 0o7777)


def _apply(root: _Root, m: tarfile.TarInfo, parts: tuple[str, ...], layer_created: set[tuple[str, ...]],
           tar: tarfile.TarFile, limits: UnpackLimits) -> None:
    name = parts[-1]
    with root.parent(parts, create=True) as pfd:
        existing = _lstat(pfd, name)
        if m.isdir():
            if existing is None or not stat.S_ISDIR(existing.st_mode):
                if existing is not None:
                    _remove(pfd, name)
                os.mkdir(name, 0o700, dir_fd=pfd)
            dfd = os.open(name, DIR_FLAGS, dir_fd=pfd)
            try:
                os.fchmod(dfd, m.mode & 0o7777)
            finally:
                os.close(dfd)
        elif m.isreg():
            if m.size > limits.file_bytes:
                raise ImageFormatError(f"{root.what}: {'/'.join(parts)!r} is larger than the limit of "
                                       f"{limits.file_bytes} bytes")
            _remove(pfd, name)
            _write_file(pfd, name, m, tar.extractfile(m))
        elif m.issym():
            _remove(pfd, name)
            os.symlink(m.linkname, name, dir_fd=pfd)
        elif m.islnk():
            target = _parts(m.linkname, root.what)
            if not target:
                raise ImageFormatError(f"{root.what}: hard link {m.name!r} to the root")
            with root.parent(target, create=False, keep=False) as sfd:
                src = _lstat(sfd, target[-1])
                if src is None or stat.S_ISDIR(src.st_mode):
                    raise ImageFormatError(f"{root.what}: hard link {m.name!r} to a missing file or a directory")
                if target != parts:
                    _remove(pfd, name)
                    os.link(target[-1], name, src_dir_fd=sfd, dst_dir_fd=pfd, follow_symlinks=False)
            _created(layer_created, parts)
            return  # the inode is the target's: its owner and mode stay the target's
        else:
            return  # devices and fifos are not needed to run a Go binary
        _created(layer_created, parts)
        _chown(pfd, name, m.uid, m.gid)


def _whiteout(root: _Root, parts: tuple[str, ...], layer_created: set[tuple[str, ...]],
              opaque_done: set[tuple[str, ...]]) -> None:
    name = parts[-1]
    parent = parts[:-1]
    try:
        with root.parent(parts, create=False) as pfd:
            if name == OPAQUE:
                if parent not in opaque_done:
                    opaque_done.add(parent)
                    _clear_lower(pfd, parent, layer_created)
                return
            target = name[len(WHITEOUT):]
            if target in ("", ".", ".."):
                raise ImageFormatError(f"{root.what}: malformed whiteout {'/'.join(parts)!r}")
            _remove(pfd, target)
    except FileNotFoundError:
        return  # whiting out something that is not there is a no-op


def unpack_layers(layers: Sequence[SourceLayer], dest: Path, limits: UnpackLimits = DEFAULT_UNPACK) -> Path:
    """Extract the layers in order into dest (created if needed), applying whiteouts; verified layers only
    (each is drained and checked against its digest and diff_id)."""
    dest.mkdir(parents=True, exist_ok=True)
    budget = _Budget(limits)
    for layer in layers:
        what = f"layer {layer.label}"
        root = _Root(dest, what)
        try:
            layer_created: set[tuple[str, ...]] = set()
            opaque_done: set[tuple[str, ...]] = set()
            with layer_tar(layer, budget) as tar:
                for m in tar:
                    forget_members(tar)
                    budget.entry(what)
                    parts = _parts(m.name, what)
                    if not parts:
                        continue  # `./`: the root itself
                    try:
                        if parts[-1].startswith(WHITEOUT):
                            _whiteout(root, parts, layer_created, opaque_done)
                        else:
                            _apply(root, m, parts, layer_created, tar, limits)
                    except OSError as exc:  # named here: the tar reader would call it "unreadable"
                        raise ImageFormatError(f"{what}: cannot unpack {m.name!r} ({exc.strerror or exc})") from None
        except OSError as exc:
            raise ImageFormatError(f"{what}: cannot unpack ({exc.strerror}: {exc.filename or ''})") from None
        finally:
            root.close()
    return dest
