"""A content-addressed cache of blobs that do not change between builds: base layers and tools (Delve).

Entries are verified against their digest when read: a corrupted cache must cost a rebuild, never
a wrong image.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .digest import DigestingReader
from .model import Descriptor, Layer


@dataclass(frozen=True)
class LayerCache:
    root: Path

    def _meta(self, key: str) -> Path:
        return self.root / "layers" / f"{key}.json"

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / digest.split(":", 1)[1]

    def get(self, key: str) -> Layer | None:
        try:
            meta = json.loads(self._meta(key).read_text())
            desc = Descriptor(meta["media_type"], meta["digest"], int(meta["size"]))
            path = self.blob_path(desc.digest)
            if path.stat().st_size != desc.size or not _digest_ok(path, desc.digest):
                return None
            return Layer(desc, meta["diff_id"], int(meta["uncompressed_size"]), path, meta.get("comment", ""))
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, layer: Layer) -> Layer:
        try:
            dest = self._store(layer.path, layer.digest)
            meta = {"media_type": layer.descriptor.media_type, "digest": layer.digest, "size": layer.size,
                    "diff_id": layer.diff_id, "uncompressed_size": layer.uncompressed_size,
                    "comment": layer.comment}
            _write_json(self._meta(key), meta)
            return Layer(layer.descriptor, layer.diff_id, layer.uncompressed_size, dest, layer.comment)
        except OSError:
            return layer  # an unwritable cache only costs speed

    def _store(self, src: Path, digest: str) -> Path:
        """Copy src into the blob store under its digest; written to a temp sibling, then renamed."""
        dest = self.blob_path(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            tmp = dest.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        return dest

    def _file_meta(self, key: str) -> Path:
        return self.root / "files" / f"{key}.json"

    def get_file(self, key: str) -> Path | None:
        """A cached file (a tool binary) by key, verified against its digest; None on a miss."""
        try:
            digest = json.loads(self._file_meta(key).read_text())["digest"]
            path = self.blob_path(digest)
            return path if _digest_ok(path, digest) else None
        except (OSError, ValueError, KeyError, IndexError):
            return None

    def put_file(self, key: str, src: Path) -> Path:
        """Store src under key; returns the cached path (or src itself if the cache is unwritable)."""
        try:
            digest = file_digest(src)
            dest = self._store(src, digest)
            _write_json(self._file_meta(key), {"digest": digest})
            return dest
        except OSError:
            return src


def _write_json(dest: Path, doc: dict[str, object]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, dest)


def file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return str(DigestingReader(fh).drain())


def _digest_ok(path: Path, digest: str) -> bool:
    return file_digest(path) == digest
