"""Streaming compressors with a common shape, so a layer is tarred, hashed and compressed in one pass.

gzip is written block by block with a fixed header (mtime 0, no file name), so the same input gives the
same bytes on the same deflate library: zlib (the default), or zlib-ng, ISA-L or libdeflate
(`--gzip-library`, faster; extra `fast`). The library and its version are part of a layer's identity
(`codec_id`).
zstd uses the stdlib module on 3.14+, else the backports.zstd package.
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

DEFAULT_LIBRARY = "libdeflate"  # the program's gzip layers: fewer bytes than zlib -6 in about a quarter of its CPU (README)
DEFAULT_GZIP_LEVEL = 6
DEFAULT_ZSTD_LEVEL = 19
ISAL_DEFAULT_LEVEL = 3  # ISA-L has levels 0-3; 3 is its smallest output
COMPRESSIONS = ("gzip", "zstd", "none")
# Deflate libraries with zlib's Python interface. Each writes different (equally valid) bytes, so the one
# used is part of a layer's identity: see codec_id.
DEFLATE_LIBRARIES = {"zlib": "zlib", "zlib-ng": "zlib_ng.zlib_ng", "isal": "isal.isal_zlib", "libdeflate": "deflate"}
# libdeflate compresses whole buffers only: no streaming, no preset dictionary. So each block is a gzip
# member of its own (RFC 1952 2.2: a gzip file is a series of members), which every gzip reader joins;
# eStargz layers are built the same way. Measured: its level 6 is still smaller than zlib -6 as one stream.
MEMBER_LIBRARIES = frozenset({"libdeflate"})
GZIP_LEVELS = {"isal": (0, 3), "libdeflate": (0, 12)}  # the others: zlib's 0-9


def default_library(kind: str) -> str:
    """The deflate library of the program's layers when none is asked for (the others ignore it)."""
    return DEFAULT_LIBRARY if kind == "gzip" else "zlib"


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


def default_level(kind: str, library: str = "zlib") -> int:
    if kind == "gzip" and library == "isal":
        return ISAL_DEFAULT_LEVEL
    return DEFAULT_ZSTD_LEVEL if kind == "zstd" else DEFAULT_GZIP_LEVEL if kind == "gzip" else 0


def check(kind: str, level: int | None, library: str = "zlib") -> int:
    if kind not in COMPRESSIONS:
        raise BadInput(f"unknown compression {kind!r} (choose gzip, zstd or none)")
    if library not in DEFLATE_LIBRARIES:
        raise BadInput(f"unknown gzip library {library!r} (choose {', '.join(DEFLATE_LIBRARIES)})")
    if library != "zlib" and kind != "gzip":
        raise BadInput(f"gzip library {library} applies to gzip compression only, not {kind}")
    if level is None:
        return default_level(kind, library)
    lo, hi = {"gzip": GZIP_LEVELS.get(library, (0, 9)), "zstd": (1, 22), "none": (0, 0)}[kind]
    if not lo <= level <= hi:
        name = f"{kind} ({library})" if library != "zlib" else kind
        raise BadInput(f"compression level {level} is out of range for {name} ({lo}-{hi})")
    return level


BLOCK = 1 << 20
WINDOW = 32 << 10
# Fixed gzip header: no mtime, no name, XFL 0, OS 255 ("unknown") so no build host leaks into the bytes.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"




def deflate_library(name: str) -> Any:
    try:
        return importlib.import_module(DEFLATE_LIBRARIES[name])
    except ImportError:
        package = {"libdeflate": "deflate"}.get(name)  # a dependency of slimgo itself; the others: extra fast
        fix = f"reinstall slimgo, which depends on the {package} package" if package else "pip install 'slimgo[fast]'"
        raise BadInput(f"gzip library {name} is not installed ({fix})") from None


def library_version(name: str) -> str:
    lib = deflate_library(name)
    if name == "zlib":
        return str(lib.ZLIB_RUNTIME_VERSION)
    if name == "zlib-ng":
        return str(lib.ZLIBNG_VERSION)
    if name == "libdeflate":
        return str(lib.__version__)  # the `deflate` package's: each release bundles one libdeflate
    return str(importlib.import_module("isal").__version__)


def _deflate_block(block: bytes, dictionary: bytes, level: int, last: bool, lib: Any = zlib) -> bytes:
    comp = lib.compressobj(level, lib.DEFLATED, -15, 9, lib.Z_DEFAULT_STRATEGY, dictionary) if dictionary \
        else lib.compressobj(level, lib.DEFLATED, -15, 9)
    return bytes(comp.compress(block) + comp.flush(lib.Z_FINISH if last else lib.Z_SYNC_FLUSH))


def _gzip_member(block: bytes, level: int, lib: Any) -> bytes:
    """A whole gzip member (header, deflate, CRC, size) in one call that releases the GIL. libdeflate's
    header varies XFL with the level; slimgo's fixed one replaces it so every member starts alike."""
    member = lib.gzip_compress(block, level)
    member[:len(GZIP_HEADER)] = GZIP_HEADER
    return bytes(member)


class ParallelGzip:
    """pigz-style gzip: fixed 1 MiB blocks deflated on all cores, each primed with the previous 32 KiB.

    Block boundaries depend only on the input, so the output is the same bytes however threads are
    scheduled; the dictionary keeps the ratio within a fraction of a percent of a single stream. zlib
    releases the GIL while it compresses, so threads are enough. A library without a preset dictionary
    (MEMBER_LIBRARIES) writes each block as a gzip member of its own instead.
    """

    def __init__(self, level: int, workers: int | None = None, library: str = "zlib", block: int = BLOCK) -> None:
        """`block`: other sizes are for benchmarks/compress_bench.py; layers use BLOCK (it is in codec_id)."""
        self.level = level
        self._block = block
        self._lib = deflate_library(library)
        self._members = library in MEMBER_LIBRARIES
        self._workers = workers or max(1, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=self._workers)
        self._pending: deque[Future[bytes]] = deque()
        self._buf = bytearray()
        self._tail = b""
        self._crc = 0
        self._size = 0
        self._started = False

    def _submit(self, block: bytes, last: bool) -> None:
        if self._members:
            self._pending.append(self._pool.submit(_gzip_member, block, self.level, self._lib))
            return
        self._pending.append(self._pool.submit(_deflate_block, block, self._tail, self.level, last, self._lib))
        self._tail = block[-WINDOW:]

    def _drain(self, wait_all: bool) -> bytes:
        out = []
        limit = 0 if wait_all else 2 * self._workers  # bound memory: a few blocks in flight
        while self._pending and (len(self._pending) > limit or self._pending[0].done()):
            out.append(self._pending.popleft().result())
        return b"".join(out)

    def compress(self, data: bytes) -> bytes:
        head = b"" if self._started or self._members else GZIP_HEADER
        self._started = True
        if not self._members:  # each member carries its own CRC, computed in its worker
            self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._buf += data
        while len(self._buf) >= self._block:
            block = bytes(self._buf[:self._block])
            del self._buf[:self._block]
            self._submit(block, last=False)
        return head + self._drain(wait_all=False)

    def flush(self) -> bytes:
        head = b"" if self._started or self._members else GZIP_HEADER
        self._started = True
        if not self._members or self._buf or not self._size:  # an empty input is still one (empty) member
            self._submit(bytes(self._buf), last=True)
        self._buf.clear()
        body = self._drain(wait_all=True)
        self._pool.shutdown()
        return head + body + (b"" if self._members else struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))


def codec_id(kind: str, library: str = "zlib") -> str:
    """What decides the compressed bytes besides the input and the level: the library and its version, and
    the block layout. Cache keys include it, so a library upgrade never reuses bytes another codec made."""
    if kind == "gzip":
        layout = "members" if library in MEMBER_LIBRARIES else "blocks"
        return f"{library}-{library_version(library)}/{layout}-{BLOCK}"
    if kind == "zstd":
        mod = zstd_module()
        return f"{mod.__name__}-{getattr(mod, 'zstd_version', '?')}"
    return kind


LABEL = "dev.slimgo.compression"  # on every image slimgo builds: how its own layers were compressed


def describe(kind: str, level: int, library: str = "zlib") -> str:
    """The LABEL value: kind, level and codec, e.g. `gzip 6 zlib-1.2.13/blocks-1048576`."""
    return f"{kind} {level} {codec_id(kind, library)}" if kind != "none" else "none"


def compressor(kind: str, level: int, library: str = "zlib") -> Compressor:
    if kind == "gzip":
        return ParallelGzip(level, library=library)
    if kind == "zstd":
        return cast(Compressor, zstd_module().ZstdCompressor(level=level))
    return _Identity()
