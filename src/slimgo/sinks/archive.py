"""A docker-archive that is also an OCI layout.

Docker 20.10 reads only `manifest.json`; newer engines and skopeo also read `index.json`. One tar
carries both, sharing the blobs. The tar itself is reproducible (sorted, mtime 0, root-owned).
"""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import atomic_file, check_writable
from .content import FileItem, Published, docker_manifest, layout_items
from .sink import SinkResult
from .written import WrittenFiles, items_key

# tarfile copies a blob in 16 KiB reads by default: 1 MiB takes 19 ms instead of 31 ms for caddy's 19 MiB layer
COPY_BUFFER = 1 << 20


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


# How write_archive_items lays the items out (PAX, sorted, mtime 0, root-owned): part of what an unchanged
# output is recognised by (sinks/written.py), so a change to the layout must change this.
WRITER = "pax-sorted-v1"


def archive_items(pub: Published, host_arch: str) -> list[FileItem]:
    items = layout_items(pub)
    image = pub.image_for(host_arch)
    items.append(FileItem("manifest.json", data=docker_manifest(image, pub.tags)))
    return items


def write_archive(dest: Path, pub: Published, host_arch: str) -> Path:
    return write_archive_items(dest, archive_items(pub, host_arch))


def write_archive_items(dest: Path, items: list[FileItem]) -> Path:
    _write_items(dest, items)
    return dest


def _write_items(dest: Path, items: list[FileItem]) -> os.stat_result:
    """Write the archive; a stat of the file written (its inode is dest's, until someone renames another over it)."""
    dirs = sorted({"blobs", "blobs/sha256"})
    with atomic_file(dest) as tmp:
        with tarfile.TarFile(tmp, "w", format=tarfile.PAX_FORMAT, copybufsize=COPY_BUFFER) as tar:
            for d in dirs:
                info = tarfile.TarInfo(d)
                info.type, info.mode, info.mtime, info.uname, info.gname = tarfile.DIRTYPE, 0o755, 0, "", ""
                tar.addfile(info)
            for item in sorted(items, key=lambda i: i.path):
                _add(tar, item)
        written = os.stat(tmp)
    return written


@dataclass(frozen=True)
class ArchiveSink:
    """host_arch picks the image `docker load` gets from a multi-platform artifact."""

    path: Path
    host_arch: str
    create_parent: bool = False  # the default dist/: made only now, and removed again if the write fails
    remote: bool = False
    registry: bool = False  # asked beside the compile (stages.publish.check_outputs)
    written: WrittenFiles | None = None  # an unchanged tarball is touched, not written again (None: --no-cache)

    def describe(self) -> str:
        return f"writing {self.path}"

    def check(self) -> None:
        check_writable(self.path, create_parent=self.create_parent)

    def publish(self, pub: Published) -> SinkResult:
        items = archive_items(pub, self.host_arch)
        key = items_key("docker-archive", items, WRITER) if self.written is not None else ""
        if self.written is not None and self.written.touch(self.path, key):  # unchanged: only its times move
            return SinkResult({"tarball": str(self.path)})
        parent = self.path.parent
        created = self.create_parent and not parent.exists()
        if created:
            parent.mkdir(parents=True)
        try:
            written = _write_items(self.path, items)
            if self.written is not None:
                self.written.note(self.path, key, written)
            return SinkResult({"tarball": str(self.path)})
        except BaseException:
            if created and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
            raise
