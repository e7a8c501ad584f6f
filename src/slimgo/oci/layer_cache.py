"""Reuse a compressed layer when its uncompressed tar is byte-for-byte one slimgo compressed before.

Compressing the binary is most of what an image costs on top of `go build`, and a rebuild that leaves the
binary unchanged must not pay it again. The key is the tar's own digest (the diff_id: it covers every
byte of the binary and every tar header, mtime included) plus everything that decides the compressed bytes:
the compression, its level and the codec (`compress.codec_id`). Hashing the tar costs one read of the
binary, far less than deflating it.

The blob itself goes through `LayerCache`, which verifies it before handing it out, so a corrupted or
planted entry costs a recompression, never a wrong image; an unwritable cache only costs speed.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
from collections.abc import Iterable
from pathlib import Path

from . import compress
from .cache import LayerCache
from .layer import Entry, with_parents, write_layer, write_tar
from .model import Layer

KEY_VERSION = "slimgo-layer-v1"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class _TarHasher(io.RawIOBase):
    """Counts and hashes what the tar writer emits, keeping none of it."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.hash.update(data)
        self.size += len(data)
        return len(data)


def tar_digest(entries: Iterable[Entry], mtime: int = 0) -> tuple[str, int]:
    """diff_id and size of the tar `write_layer` would write for these entries (nothing is compressed)."""
    sink = _TarHasher()
    write_tar(with_parents(entries), mtime, sink)
    return "sha256:" + sink.hash.hexdigest(), sink.size


def remembered_tar_digest(entries: list[Entry], mtime: int, cache: LayerCache | None) -> tuple[str, int]:
    """`tar_digest`, remembered per Go build ID of the files it reads.

    Hashing is the one read of the binary an unchanged rebuild still paid: 16 MiB for node_exporter, 55 MiB
    for caddy. cmd/go writes the hash of the finished file into the binary's build ID (`.note.go.buildid`),
    so the ID and the size name the bytes; reading the ID costs a page. (Not the file's inode and mtime: Go
    touches an up-to-date output, and a freed inode comes back with the next file.) A file without Go's ID
    is hashed as before; the caller passes no cache when the file is not the linker's own (a post-compile
    transform, or a build ID the user chose with `-buildid=`)."""
    if cache is None:
        return tar_digest(entries, mtime)
    material = [KEY_VERSION, "tar-digest-go-build-id", str(mtime)]
    for e in entries:
        if e.data is not None or e.kind == "hardlink":
            return tar_digest(entries, mtime)
        material += [e.path, e.kind, oct(e.mode), str(e.uid), str(e.gid), e.linkname]
        if e.source is not None:
            identity = _go_identity(e.source)
            if identity is None:
                return tar_digest(entries, mtime)
            material += identity
    key = "tar-" + hashlib.sha256("\0".join(material).encode("utf-8", "surrogateescape")).hexdigest()
    doc = cache.get_doc("digests", key)
    if isinstance(doc, dict) and isinstance(doc.get("diff_id"), str) and isinstance(doc.get("size"), int) \
            and _DIGEST.fullmatch(doc["diff_id"]):
        return doc["diff_id"], doc["size"]
    diff_id, size = tar_digest(entries, mtime)
    cache.put_doc("digests", key, {"diff_id": diff_id, "size": size})
    return diff_id, size


def _go_identity(path: Path) -> list[str] | None:
    """Go's build ID and the size of the file at path, or None when it has no such ID (or cannot be read)."""
    from ..binary.elf import MappedFile, go_build_id, parse
    from ..errors import SlimgoError

    try:
        with MappedFile(path) as mapped:
            build_id = go_build_id(parse(mapped.view))
            size = len(mapped.view)
    except (SlimgoError, OSError, ValueError, struct.error):
        return None
    return [build_id, str(size)] if build_id is not None else None


def cache_key(diff_id: str, compression: str, level: int, library: str = "zlib") -> str:
    """A key made only of hex, so it is a safe file name whatever the inputs."""
    material = "\0".join((KEY_VERSION, diff_id, compression, str(level), compress.codec_id(compression, library)))
    return "layer-" + hashlib.sha256(material.encode()).hexdigest()


def cached_layer(entries: Iterable[Entry], blob_dir: Path, cache: LayerCache | None, *, compression: str = "gzip",
                 level: int | None = None, mtime: int = 0, comment: str = "", library: str = "zlib",
                 known: tuple[str, int] | None = None) -> Layer:
    """`write_layer`, skipped when the cache holds (and verifies) the same tar compressed the same way.
    `known`: the tar's digest and size when the caller already hashed it (one read of the binary, not two)."""
    items = list(entries)
    if cache is None:
        return write_layer(items, blob_dir, compression=compression, level=level, mtime=mtime, comment=comment,
                           library=library)
    level = compress.check(compression, level, library)
    diff_id, size = known or tar_digest(items, mtime)
    key = cache_key(diff_id, compression, level, library)
    hit = cache.get(key)
    if hit is not None and hit.diff_id == diff_id and hit.uncompressed_size == size:
        return Layer(hit.descriptor, hit.diff_id, hit.uncompressed_size, hit.path, comment)
    layer = write_layer(items, blob_dir, compression=compression, level=level, mtime=mtime, comment=comment,
                        library=library)
    if layer.diff_id != diff_id:  # a file changed between the two reads: build with it, cache nothing
        return layer
    cache.put(key, layer)  # the image uses the blob just written: only a verified `get` hands out cached bytes
    return layer
