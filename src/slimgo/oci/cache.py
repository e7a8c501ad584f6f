"""A content-addressed cache of blobs that do not change between builds: base layers and tools (Delve).

Nothing here trusts a string: a blob's path is built only from a parsed `Digest`, and a layer key only
from slimgo's own hex keys. A blob enters the cache only through `ingest`, which streams it into a
temporary file inside the cache, verifies digest and size on the way, measures its tar (diff_id and
uncompressed size; for a layer slimgo compressed itself, as the compressor read it) and then writes a
*verified marker* atomically. A blob without a marker whose recorded
size, inode and mtime still match the file is re-verified before use, so a corrupted or planted file costs
a re-download, never a wrong image. Every write stays under the cache root.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat as stat_mod
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import ImageFormatError
from .decompress import decompressed
from .digest import Digest, DigestError, DigestingReader
from .model import Descriptor, Layer

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.=-]{0,240}")
MAX_DOC = 64 << 10  # a keyed document (get_doc) is a few hundred bytes; more is not one of ours


@dataclass(frozen=True)
class BlobFacts:
    """What slimgo measured about a blob when it verified it."""

    digest: Digest
    size: int
    diff_id: str  # of the decompressed tar, for layers; "" when not measured
    uncompressed_size: int


@dataclass(frozen=True)
class LayerCache:
    root: Path

    # ---- paths, only from parsed values ---------------------------------------------------------------
    def blob_path(self, digest: Digest | str) -> Path:
        d = digest if isinstance(digest, Digest) else Digest.parse(digest, "cached blob")
        return self.root.joinpath("blobs", *d.parts)

    def _marker_path(self, d: Digest) -> Path:
        return self.root.joinpath("verified", d.algorithm, d.hex + ".json")

    def _meta(self, key: str, kind: str = "layers") -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"cache key {key!r}")  # slimgo's own keys only: a bug if reached
        return self.root / kind / f"{key}.json"

    # ---- verified blobs -------------------------------------------------------------------------------
    def verified(self, digest: Digest, size: int | None = None, *, layer: bool = True) -> BlobFacts | None:
        """The facts of a cached blob, if slimgo verified this very file (marker matches its stat);
        a blob with no valid marker is verified now (and marked), or None if it fails or is absent."""
        path = self.blob_path(digest)
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            return None
        if not stat_mod.S_ISREG(st.st_mode) or (size is not None and st.st_size != size):
            return None
        try:
            marker = json.loads(self._marker_path(digest).read_text())
            if marker.get("stamp") == _stamp(st) and (marker.get("diff_id") or not layer):
                return BlobFacts(digest, int(marker["size"]), str(marker.get("diff_id", "")),
                                 int(marker.get("uncompressed_size", 0)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        try:
            with open(path, "rb", opener=_nofollow) as fh:
                return self.ingest(digest, st.st_size, fh, what=f"cached blob {digest}", layer=layer,
                                   already_there=True)
        except (OSError, ImageFormatError):
            return None

    def ingest(self, digest: Digest | None, size: int | None, src: IO[bytes] | io.RawIOBase, *, what: str,
               layer: bool = True, limit: int | None = None, already_there: bool = False,
               measured: tuple[str, int] | None = None) -> BlobFacts:
        """Stream `src` into the cache, verifying digest (if known) and size; returns what was measured.

        `digest=None` computes the digest (a Docker archive's layer named by path). Raises DigestError /
        SizeExceeded on a mismatch; nothing is left behind then. `measured`: the tar's diff_id and size, for
        a layer slimgo itself compressed from that tar (its digest still verified here), so the blob is
        not decompressed a second time to find what the compressor already hashed.
        """
        reader = DigestingReader(src, digest, size=size, limit=limit, what=what)
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                got = reader.drain(None if already_there else out)
            diff_id, usize = measured or ("", 0)
            if layer and measured is None:
                source = self.blob_path(got) if already_there else tmp
                diff_id, usize = _measure_tar(lambda: open(source, "rb"), what)
            dest = self.blob_path(got)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not already_there:
                os.replace(tmp, dest)
            facts = BlobFacts(got, reader.count, diff_id, usize)
            self._mark(dest, facts)
            return facts
        finally:
            tmp.unlink(missing_ok=True)

    def _mark(self, path: Path, facts: BlobFacts) -> None:
        st = os.stat(path, follow_symlinks=False)
        doc = {"size": facts.size, "diff_id": facts.diff_id, "uncompressed_size": facts.uncompressed_size,
               "stamp": _stamp(st)}
        _atomic_write(self._marker_path(facts.digest), json.dumps(doc).encode(), self.root / "tmp")

    # ---- keyed layers (slimgo's own, e.g. the static base for a spec) -------------------------------
    def get(self, key: str) -> Layer | None:
        try:
            meta = json.loads(self._meta(key).read_text())
            digest = Digest.parse(meta["digest"], "cache index")
            facts = self.verified(digest, int(meta["size"]))
            if facts is None:
                return None
            desc = Descriptor(str(meta["media_type"]), str(digest), facts.size)
            return Layer(desc, facts.diff_id, facts.uncompressed_size, self.blob_path(digest),
                         str(meta.get("comment", "")))
        except (OSError, ValueError, KeyError, TypeError, DigestError):
            return None

    def put(self, key: str, layer: Layer) -> Layer:
        """Copy a layer slimgo built into the cache (verifying the copy), and index it under key."""
        try:
            digest = Digest.parse(layer.digest, "layer")
            if self.verified(digest, layer.size) is None:
                with open(layer.path, "rb") as fh:  # its tar was measured as it was compressed: not again
                    self.ingest(digest, layer.size, fh, what=f"layer {digest}",
                                measured=(layer.diff_id, layer.uncompressed_size))
            meta = {"media_type": layer.descriptor.media_type, "digest": str(digest), "size": layer.size,
                    "comment": layer.comment}
            _atomic_write(self._meta(key), json.dumps(meta).encode(), self.root / "tmp")
            return Layer(layer.descriptor, layer.diff_id, layer.uncompressed_size, self.blob_path(digest),
                         layer.comment)
        except (OSError, ImageFormatError):
            return layer  # an unwritable cache only costs speed

    # ---- keyed documents (facts slimgo measured, e.g. a binary's needs) ------------------------------
    def get_doc(self, kind: str, key: str) -> object | None:
        """A small JSON document stored under key, or None. The caller type-checks it: the cache is a folder
        anyone with access can edit, and a bad entry must cost a recomputation, never a wrong answer."""
        try:
            with open(self._meta(key, kind), "rb") as fh:  # one bounded read: no size check to race with
                data = fh.read(MAX_DOC + 1)
            if len(data) > MAX_DOC:
                return None
            doc: object = json.loads(data)
            return doc
        except (OSError, ValueError, RecursionError):  # RecursionError: an entry of nested brackets
            return None

    def put_doc(self, kind: str, key: str, doc: object) -> None:
        try:
            _atomic_write(self._meta(key, kind), json.dumps(doc).encode(), self.root / "tmp")
        except OSError:
            pass  # an unwritable cache only costs speed

    # ---- keyed files (tools slimgo built, e.g. Delve) -----------------------------------------------
    def get_file(self, key: str) -> Path | None:
        """A cached file by key, verified (or vouched for by its marker); None on a miss."""
        try:
            digest = Digest.parse(json.loads(self._meta(key, "files").read_text())["digest"], "cache index")
            return self.blob_path(digest) if self.verified(digest, layer=False) is not None else None
        except (OSError, ValueError, KeyError, TypeError, DigestError):
            return None

    def put_file(self, key: str, src: Path) -> Path:
        """Store src under key; returns the cached path (or src itself if the cache is unwritable)."""
        try:
            with open(src, "rb") as fh:
                facts = self.ingest(None, None, fh, what=f"file {src.name}", layer=False)
            _atomic_write(self._meta(key, "files"), json.dumps({"digest": str(facts.digest)}).encode(),
                          self.root / "tmp")
            return self.blob_path(facts.digest)
        except (OSError, ImageFormatError):
            return src


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_ino, st.st_mtime_ns]


def _nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def _atomic_write(dest: Path, data: bytes, tmp_dir: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _measure_tar(opener: Callable[[], IO[bytes]], what: str) -> tuple[str, int]:
    """diff_id and size of a layer's tar, by decompressing it once."""
    import zlib

    try:
        with opener() as raw:
            reader = DigestingReader(decompressed(raw), what=what)
            got = reader.drain()
    except (OSError, EOFError, zlib.error) as exc:
        raise ImageFormatError(f"{what}: not a readable layer ({exc})") from None
    return str(got), reader.count
