"""Content digests, parsed strictly, and the one reader that verifies a blob while it streams.

A digest read from an image, an archive, a registry or a cache index is hostile until parsed: it ends up in
file paths (`blobs/sha256/<hex>`) and URLs, so `sha256:../../etc/passwd` must never get past the parser.
Only `sha256` (64 hex) and `sha512` (128 hex) in lowercase are accepted, as the OCI image spec registers.

`DigestingReader` is the single place where bytes are hashed on their way through: it hashes while
streaming, refuses a byte past the declared size, and checks digest and size at EOF. tarfile stops at the
end-of-archive marker, so callers that read a layer through tarfile must `drain()` the reader afterwards;
otherwise appended garbage or a flipped byte in the padding would pass unnoticed.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from ..errors import ImageFormatError

ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}
_HEX = frozenset("0123456789abcdef")
CHUNK = 1 << 20


class DigestError(ImageFormatError):
    """A digest string that does not follow the grammar, or bytes that do not match their digest."""


class SizeExceeded(ImageFormatError):
    """More bytes than declared or allowed: the stream is cut before it can fill memory or disk."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True, order=True)
class Digest:
    algorithm: str
    hex: str

    @classmethod
    def parse(cls, value: object, what: str = "digest") -> Digest:
        """`algorithm:hex`, strictly; anything else raises DigestError naming `what`."""
        if not isinstance(value, str):
            raise DigestError(f"{what}: digest must be a string, got {type(value).__name__}")
        algorithm, sep, hexd = value.partition(":")
        length = ALGORITHMS.get(algorithm)
        if not sep or length is None:
            raise DigestError(f"{what}: unsupported digest {_show(value)} (sha256 or sha512 only)")
        if len(hexd) != length or not _HEX.issuperset(hexd):
            raise DigestError(f"{what}: malformed digest {_show(value)} "
                              f"(expected {algorithm}: and {length} lowercase hex digits)")
        return cls(algorithm, hexd)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def hasher(self) -> Any:
        return hashlib.new(self.algorithm)

    def verify(self, data: bytes, what: str) -> bytes:
        """The bytes, if they hash to this digest; DigestError otherwise."""
        if hashlib.new(self.algorithm, data).hexdigest() != self.hex:
            raise DigestError(f"{what}: digest mismatch (expected {self})")
        return data

    @property
    def parts(self) -> tuple[str, str]:
        """Path components (`algorithm`, `hex`) of the blob: safe to join, because the grammar allows
        neither `/` nor `.`."""
        return self.algorithm, self.hex


def parse_size(value: object, what: str) -> int:
    """A descriptor's `size`: a non-negative JSON integer (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImageFormatError(f"{what}: size must be a non-negative integer, got {_show(value)}")
    return value


class DigestingReader(io.RawIOBase):
    """Reads `inner`, hashing as it goes, and verifies at EOF.

    - `expected`: the digest the bytes must have (None: just compute it, e.g. for a Docker archive's layer
      named by path; `digest` holds the result after EOF).
    - `size`: the declared size. A byte beyond it raises at once (an "endless blob declared as 10 bytes"
      never fills the disk); fewer bytes at EOF raise too.
    - `limit`: an upper bound when no size is declared (a token, a manifest).
    """

    def __init__(self, inner: IO[bytes] | io.RawIOBase, expected: Digest | None = None, *, size: int | None = None,
                 limit: int | None = None, what: str = "blob", algorithm: str | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.expected = expected
        self.size = size
        self.limit = limit
        self.what = what
        self.algorithm = algorithm or (expected.algorithm if expected else "sha256")
        self._hash = hashlib.new(self.algorithm)
        self.count = 0
        self.digest: Digest | None = None

    def readable(self) -> bool:
        return True

    def _cap(self) -> int | None:
        caps = [c for c in (self.size, self.limit) if c is not None]
        return min(caps) if caps else None

    def readinto(self, b: Any) -> int:
        if self.digest is not None:
            return 0
        view = memoryview(b).cast("B")
        want = len(view)
        cap = self._cap()
        if cap is not None:
            # Ask for one byte past the cap at most, so an overlong stream is caught without reading it.
            want = min(want, cap - self.count + 1)
        data = self.inner.read(max(want, 1)) or b""
        if not data:
            self._finish()
            return 0
        self.count += len(data)
        if cap is not None and self.count > cap:
            if self.size is not None and self.count > self.size:
                raise SizeExceeded(f"{self.what}: more bytes than its declared size {self.size}")
            raise SizeExceeded(f"{self.what}: larger than the limit of {self.limit} bytes")
        self._hash.update(data)
        view[:len(data)] = data
        return len(data)

    def _finish(self) -> None:
        if self.size is not None and self.count != self.size:
            raise DigestError(f"{self.what}: {self.count} bytes, but its declared size is {self.size}")
        got = Digest(self.algorithm, self._hash.hexdigest())
        if self.expected is not None and got != self.expected:
            raise DigestError(f"{self.what}: digest mismatch (expected {self.expected}, got {got})")
        self.digest = got

    def drain(self, out: IO[bytes] | None = None) -> Digest:
        """Read to EOF (copying into `out` if given) and verify; returns the digest of all the bytes."""
        buf = bytearray(CHUNK)
        while n := self.readinto(buf):
            if out is not None:
                out.write(memoryview(buf)[:n])
        assert self.digest is not None
        return self.digest

    def read_all(self) -> bytes:
        """Every byte, verified (for small documents: callers pass a `limit` or `size`)."""
        out = io.BytesIO()
        self.drain(out)
        return out.getvalue()

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


def verifying(inner: IO[bytes] | io.RawIOBase, expected: Digest | None, *, size: int | None = None,
              limit: int | None = None, what: str = "blob") -> BinaryIO:
    """A buffered file object over a DigestingReader: what openers hand out. Reading it to EOF (see
    `drain`) verifies it."""
    return io.BufferedReader(DigestingReader(inner, expected, size=size, limit=limit, what=what), CHUNK)


def drain(stream: IO[bytes]) -> None:
    """Read a stream to its end, so that a verifying reader beneath checks digest and size."""
    while stream.read(CHUNK):
        pass


def read_verified(inner: IO[bytes] | io.RawIOBase, expected: Digest | None, *, size: int | None = None,
                  limit: int | None = None, what: str = "blob") -> bytes:
    with DigestingReader(inner, expected, size=size, limit=limit, what=what) as reader:
        return reader.read_all()
