"""Streaming compressors with a common shape, so a layer is tarred, hashed and compressed in one pass.

gzip goes through zlib directly (wbits 31): the header then carries mtime 0 and no file name, so the
same input gives the same bytes on the same zlib. zstd uses the stdlib module on 3.14+, else the
backports.zstd package.
"""

from __future__ import annotations

import importlib
import os
import struct
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, cast

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


def zstd_module() -> Any:
    """The standard library's zstd (3.14+) or its backport; typed Any because which one exists varies."""
    try:
        return importlib.import_module("compression.zstd")
    except ImportError:
        try:
            return importlib.import_module("backports.zstd")
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


BLOCK = 1 << 20
WINDOW = 32 << 10
# Fixed gzip header: no mtime, no name, XFL 0, OS 255 ("unknown") so no build host leaks into the bytes.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def _deflate_block(block: bytes, dictionary: bytes, level: int, last: bool) -> bytes:
    comp = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, dictionary) if dictionary \
        else zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    return comp.compress(block) + comp.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class ParallelGzip:
    """pigz-style gzip: fixed 1 MiB blocks deflated on all cores, each primed with the previous 32 KiB.

    Block boundaries depend only on the input, so the output is the same bytes however threads are
    scheduled; the dictionary keeps the ratio within a fraction of a percent of a single stream. zlib
    releases the GIL while it compresses, so threads are enough.
    """

    def __init__(self, level: int, workers: int | None = None) -> None:
        self.level = level
        self._workers = workers or max(1, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=self._workers)
        self._pending: deque[Future[bytes]] = deque()
        self._buf = bytearray()
        self._tail = b""
        self._crc = 0
        self._size = 0
        self._started = False

    def _submit(self, block: bytes, last: bool) -> None:
        self._pending.append(self._pool.submit(_deflate_block, block, self._tail, self.level, last))
        self._tail = block[-WINDOW:]

    def _drain(self, wait_all: bool) -> bytes:
        out = []
        limit = 0 if wait_all else 2 * self._workers  # bound memory: a few blocks in flight
        while self._pending and (len(self._pending) > limit or self._pending[0].done()):
            out.append(self._pending.popleft().result())
        return b"".join(out)

    def compress(self, data: bytes) -> bytes:
        head = b"" if self._started else GZIP_HEADER
        self._started = True
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._buf += data
        while len(self._buf) >= BLOCK:
            block = bytes(self._buf[:BLOCK])
            del self._buf[:BLOCK]
            self._submit(block, last=False)
        return head + self._drain(wait_all=False)

    def flush(self) -> bytes:
        head = b"" if self._started else GZIP_HEADER
        self._started = True
        self._submit(bytes(self._buf), last=True)
        self._buf.clear()
        body = self._drain(wait_all=True)
        self._pool.shutdown()
        return head + body + struct.pack("<II", self._crc, self._size & 0xFFFFFFFF)


def codec_id(kind: str) -> str:
    """What decides the compressed bytes besides the input and the level: the library and its version, and
    the block layout. Cache keys include it, so a library upgrade never reuses bytes another codec made."""
    if kind == "gzip":
        return f"zlib-{zlib.ZLIB_RUNTIME_VERSION}/blocks-{BLOCK}"
    if kind == "zstd":
        mod = zstd_module()
        return f"{mod.__name__}-{getattr(mod, 'zstd_version', '?')}"
    return kind


def compressor(kind: str, level: int) -> Compressor:
    if kind == "gzip":
        return ParallelGzip(level)
    if kind == "zstd":
        return cast(Compressor, zstd_module().ZstdCompressor(level=level))
    return _Identity()
