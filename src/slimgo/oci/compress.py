"""Streaming compressors with a common shape, so a layer is tarred, hashed and compressed in one pass.

gzip goes through zlib directly (wbits 31): the header then carries mtime 0 and no file name, so the
same input gives the same bytes on the same zlib. zstd uses the stdlib module on 3.14+, else the
backports.zstd package.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from ..errors import BadInput

DEFAULT_GZIP_LEVEL = 6
DEFAULT_ZSTD_LEVEL = 19
COMPRESSIONS = ("gzip", "zstd", "none")


class Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Identity:
    def compress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


def _zstd_module():  # type: ignore[no-untyped-def]
    try:
        from compression import zstd  # type: ignore[import-not-found]
        return zstd
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
            return zstd
        except ImportError:
            raise BadInput("zstd compression needs Python 3.14 or the backports.zstd package") from None


def default_level(kind: str) -> int:
    return DEFAULT_ZSTD_LEVEL if kind == "zstd" else DEFAULT_GZIP_LEVEL if kind == "gzip" else 0


def check(kind: str, level: int | None) -> int:
    if kind not in COMPRESSIONS:
        raise BadInput(f"unknown compression {kind!r} (choose gzip, zstd or none)")
    if level is None:
        return default_level(kind)
    lo, hi = {"gzip": (0, 9), "zstd": (1, 22), "none": (0, 0)}[kind]
    if not lo <= level <= hi:
        raise BadInput(f"compression level {level} is out of range for {kind} ({lo}-{hi})")
    return level


def compressor(kind: str, level: int) -> Compressor:
    if kind == "gzip":
        return zlib.compressobj(level, zlib.DEFLATED, 31, 9)
    if kind == "zstd":
        zstd = _zstd_module()
        return zstd.ZstdCompressor(level=level)
    return _Identity()


def library_version(kind: str) -> str:
    """Identifies the bytes a compressor makes: part of the layer cache key."""
    if kind == "gzip":
        return f"zlib-{zlib.ZLIB_RUNTIME_VERSION}"
    if kind == "zstd":
        return f"zstd-{_zstd_module().zstd_version_info}"
    return "none"
