"""OCI image layout directory (image-spec 1.0 layout)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import atomic_dir, check_writable
from .content import LAYOUT_FILE, FileItem, Published, layout_items
from .sink import SinkResult


def write_layout(dest: Path, pub: Published) -> Path:
    return write_layout_items(dest, layout_items(pub))


def write_layout_items(dest: Path, items: list[FileItem]) -> Path:
    with atomic_dir(dest, replace_if=LAYOUT_FILE) as tmp:
        for item in items:
            target = tmp / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if item.data is not None:
                target.write_bytes(item.data)
            else:
                assert item.source is not None
                shutil.copyfile(item.source, target)
    return dest


@dataclass(frozen=True)
class LayoutSink:
    path: Path
    remote: bool = False
    registry: bool = False  # asked beside the compile (stages.publish.check_outputs)

    def describe(self) -> str:
        return f"writing OCI layout {self.path}"

    def check(self) -> None:
        check_writable(self.path, directory=True)

    def publish(self, pub: Published) -> SinkResult:
        return SinkResult({"oci_layout": str(write_layout(self.path, pub))})
