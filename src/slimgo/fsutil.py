"""Writes that never leave a half-written output: temp sibling, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from .cachedir import cache_dir
from .errors import BadInput


def _check_parent(dest: Path) -> Path:
    parent = dest.parent if str(dest.parent) else Path(".")
    if not parent.exists():
        raise BadInput(f"{dest}: parent directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise BadInput(f"{dest}: cannot write in {parent} ({_why_not_writable(parent)})")
    return parent


def _why_not_writable(folder: Path) -> str:
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        pass
    return "permission denied"


def check_writable(dest: Path, *, directory: bool = False, create_parent: bool = False) -> None:
    """Fail early, before minutes of compiling, when an output path cannot be written.

    The parent is probed by creating (and removing) a temporary file in it: permission bits say yes
    for root on /proc or a read-only mount, where the real write would fail after the compile.
    `create_parent`: the parent may be missing if it can be created (the default dist/)."""
    parent = dest.parent if str(dest.parent) else Path(".")
    if create_parent and not parent.exists():
        if parent.is_symlink() or not parent.parent.is_dir():
            raise BadInput(f"{dest}: cannot create {parent}")
        _probe(dest, parent.parent)
        return
    _check_parent(dest)
    if dest.exists() and dest.is_dir() != directory:
        kind = "a directory" if dest.is_dir() else "a file"
        raise BadInput(f"{dest}: exists and is {kind}")
    _probe(dest, parent)


def _probe(dest: Path, directory: Path) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".slimgo-probe-", dir=directory)
    except OSError as exc:
        raise BadInput(f"{dest}: cannot write in {directory} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_file(dest: Path) -> Iterator[Path]:
    """Yield a temp path beside dest; rename it over dest only if the block finishes."""
    parent = _check_parent(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(dest: Path, data: bytes) -> None:
    with atomic_file(dest) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def atomic_dir(dest: Path, *, replace_if: str | None = None) -> Iterator[Path]:
    """Yield a temp directory beside dest and swap it in at the end.

    An existing dest is replaced only when it is empty or contains `replace_if` (e.g. an earlier OCI
    layout), so a typo never deletes someone's directory.
    """
    parent = _check_parent(dest)
    if dest.exists():
        if not dest.is_dir():
            raise BadInput(f"{dest}: exists and is not a directory")
        if any(dest.iterdir()) and not (replace_if and (dest / replace_if).exists()):
            raise BadInput(f"{dest}: exists and is not empty (refusing to overwrite)")
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=parent))
            os.replace(dest, old / "x")
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def user_cache_dir() -> Path:
    return Path(cache_dir())
