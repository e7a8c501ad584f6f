"""A content-addressed cache of layer blobs, for layers that do not change between builds (the base).

Entries are verified against their digest when read: a corrupted cache must cost a rebuild, never
a wrong image.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

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
        dest = self.blob_path(layer.digest)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists():
                tmp = dest.with_suffix(f".{os.getpid()}.tmp")
                shutil.copyfile(layer.path, tmp)
                os.replace(tmp, dest)
            meta = {"media_type": layer.descriptor.media_type, "digest": layer.digest, "size": layer.size,
                    "diff_id": layer.diff_id, "uncompressed_size": layer.uncompressed_size,
                    "comment": layer.comment}
            self._meta(key).parent.mkdir(parents=True, exist_ok=True)
            tmp_meta = self._meta(key).with_suffix(f".{os.getpid()}.tmp")
            tmp_meta.write_text(json.dumps(meta))
            os.replace(tmp_meta, self._meta(key))
            return Layer(layer.descriptor, layer.diff_id, layer.uncompressed_size, dest, layer.comment)
        except OSError:
            return layer  # an unwritable cache only costs speed


def _digest_ok(path: Path, digest: str) -> bool:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest() == digest
