"""The files an image's layers leave behind, read from the layer tars in memory.

Whiteouts are applied in order, so a path deleted by a later layer is gone. Paths are normalised and any
that would leave the image root are refused, so nothing can be read or written outside it.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import tarfile
from dataclasses import dataclass
from typing import IO, Callable, Iterator, cast

from ..errors import ImageFormatError
from ..oci.compress import zstd_module
from ..oci.digest import DigestingReader
from .local import SourceImage, SourceLayer

MAX_ELF = 2 << 30  # a single binary larger than 2 GiB is refused, not read into memory


@dataclass(frozen=True)
class ImageFile:
    path: str
    size: int
    layer: str
    data: bytes


def decompressed_stream(opener: Callable[[], IO[bytes]]) -> IO[bytes]:
    """A layer blob as its tar stream, whatever the compression (gzip, zstd, none), told by magic bytes."""
    raw = opener()
    head = raw.read(4)
    rest = io.BufferedReader(_Prefixed(head, raw))
    if head[:2] == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=rest))
    if head == b"\x28\xb5\x2f\xfd":
        return cast(IO[bytes], zstd_module().ZstdFile(rest))
    return cast(IO[bytes], rest)


class _Prefixed(io.RawIOBase):
    def __init__(self, head: bytes, inner: IO[bytes]) -> None:
        self.head, self.inner = head, inner

    def readable(self) -> bool:
        return True

    def readinto(self, b: object) -> int:
        view = memoryview(b)  # type: ignore[arg-type]
        if self.head:
            n = min(len(view), len(self.head))
            view[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.inner.read(len(view))
        view[:len(data)] = data
        return len(data)


def safe_path(name: str) -> str | None:
    """The absolute, normalised path of a layer entry, or None if its `..` parts climb above the root
    (normpath alone would silently clamp `/../x` to `/x`)."""
    depth = 0
    for part in name.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return None
        elif part not in ("", "."):
            depth += 1
    return posixpath.normpath("/" + name.lstrip("/"))


def elf_files(image: SourceImage) -> Iterator[ImageFile]:
    """Regular ELF files present in the final filesystem (whiteouts applied)."""
    final = _final_entries(image.layers, _elf_bytes)
    for path in sorted(final):
        digest, data, size = final[path]
        yield ImageFile(path, size, digest, data)


def paths(layers: tuple[SourceLayer, ...]) -> frozenset[str]:
    """Every path in the final filesystem (for checks like "is the ELF interpreter there?")."""
    return frozenset(_final_entries(layers, lambda m, fh: b""))


def _elf_bytes(m: tarfile.TarInfo, fh: IO[bytes] | None) -> bytes | None:
    if fh is None or not m.isfile() or m.size < 64 or m.size > MAX_ELF:
        return None
    head = fh.read(4)
    return head + fh.read() if head == b"\x7fELF" else None


def _final_entries(layers: tuple[SourceLayer, ...], keep: "Callable[[tarfile.TarInfo, IO[bytes] | None], bytes | None]"
                   ) -> dict[str, tuple[str, bytes, int]]:
    final: dict[str, tuple[str, bytes, int]] = {}
    for layer in layers:
        try:
            with layer.open() as raw, tarfile.open(fileobj=decompressed_stream(lambda: raw), mode="r|") as tar:
                for m in tar:
                    path = safe_path(m.name)
                    if path is None:
                        raise ImageFormatError(f"layer {layer.digest}: entry {m.name!r} escapes the image root")
                    base = posixpath.basename(path)
                    if base.startswith(".wh."):
                        parent = posixpath.dirname(path)
                        if base == ".wh..wh..opq":
                            final = {k: v for k, v in final.items() if not k.startswith(parent.rstrip("/") + "/")}
                        else:
                            gone = posixpath.join(parent, base[4:])
                            final = {k: v for k, v in final.items() if k != gone and not k.startswith(gone + "/")}
                        continue
                    final.pop(path, None)
                    data = keep(m, tar.extractfile(m) if m.isfile() else None)
                    if data is not None:
                        final[path] = (layer.digest, data, m.size)
                # tarfile stops at the end-of-archive marker: read the rest so the digest covers every byte
                if isinstance(raw, DigestingReader):
                    raw.drain()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ImageFormatError(f"layer {layer.digest}: unreadable ({exc})") from None
    return final
