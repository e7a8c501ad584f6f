"""A layer blob as its tar stream, whatever the compression (gzip, zstd, none), told by magic bytes.

Shared by everything that reads layers (the cache measuring a base, analysis, compare's unpacker), so a
layer means the same bytes everywhere.
"""

from __future__ import annotations

import gzip
import io
from typing import IO, Any, cast

from .compress import zstd_module


class _Prefixed(io.RawIOBase):
    """Puts back the magic bytes that were read to sniff the compression."""

    def __init__(self, head: bytes, inner: IO[bytes] | io.RawIOBase) -> None:
        self.head, self.inner = head, inner

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if self.head:
            n = min(len(view), len(self.head))
            view[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.inner.read(len(view)) or b""
        view[:len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


def decompressed(raw: IO[bytes] | io.RawIOBase) -> IO[bytes]:
    head = raw.read(4) or b""
    rest = io.BufferedReader(_Prefixed(head, raw))
    if head[:2] == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=rest))
    if head == b"\x28\xb5\x2f\xfd":
        return cast(IO[bytes], zstd_module().ZstdFile(rest))
    return cast(IO[bytes], rest)
