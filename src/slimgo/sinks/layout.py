"""OCI image layout directory (image-spec 1.0 layout)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..fsutil import atomic_dir
from .content import LAYOUT_FILE, Published, layout_items


def write_layout(dest: Path, pub: Published) -> Path:
    with atomic_dir(dest, replace_if=LAYOUT_FILE) as tmp:
        for item in layout_items(pub):
            target = tmp / item.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if item.data is not None:
                target.write_bytes(item.data)
            else:
                assert item.source is not None
                shutil.copyfile(item.source, target)
    return dest
