"""A docker-archive that is also an OCI layout.

Docker 20.10 reads only `manifest.json`; newer engines and skopeo also read `index.json`. One tar
carries both, sharing the blobs. The tar itself is reproducible (sorted, mtime 0, root-owned).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from ..fsutil import atomic_file
from .content import FileItem, Published, docker_manifest, layout_items


def _add(tar: tarfile.TarFile, item: FileItem) -> None:
    info = tarfile.TarInfo(item.path)
    info.mtime = 0
    info.mode = 0o644
    info.uname = info.gname = ""
    if item.data is not None:
        info.size = len(item.data)
        tar.addfile(info, io.BytesIO(item.data))
    else:
        assert item.source is not None
        info.size = item.source.stat().st_size
        with open(item.source, "rb") as fh:
            tar.addfile(info, fh)


def write_archive(dest: Path, pub: Published, host_arch: str) -> Path:
    items = layout_items(pub)
    image = pub.image_for(host_arch)
    items.append(FileItem("manifest.json", data=docker_manifest(image, pub.tags)))
    dirs = sorted({"blobs", "blobs/sha256"})
    with atomic_file(dest) as tmp, tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime, info.uname, info.gname = tarfile.DIRTYPE, 0o755, 0, "", ""
            tar.addfile(info)
        for item in sorted(items, key=lambda i: i.path):
            _add(tar, item)
    return dest
