"""`slimgo analyze` as library calls: a binary, every Go binary in an image, or the diff of two binaries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .binary.analysis import SCHEMA_VERSION, Analysis, analyze_bytes, analyze_file
from .errors import BadInput

IMAGE_PREFIXES = ("oci:", "docker-archive:")


@dataclass
class ImageAnalysis:
    ref: str
    binaries: list[tuple[str, str, Analysis]]  # (platform, path in image, analysis)

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "image": self.ref,
                "binaries": [{**a.to_json(), "platform": plat, "image_path": path}
                             for plat, path, a in self.binaries]}


def analyze_target(target: str) -> Analysis | ImageAnalysis:
    if target.startswith(IMAGE_PREFIXES):
        from .sources.files import elf_files
        from .sources.local import open_image

        out: list[tuple[str, str, Analysis]] = []
        for image in open_image(target):
            for f in elf_files(image):
                a = analyze_bytes(memoryview(f.data), f.path)
                if a.is_go:
                    out.append((image.platform, f.path, a))
        return ImageAnalysis(target, out)
    path = Path(target)
    if not path.exists():
        raise BadInput(f"{target}: no such file")
    return analyze_file(path)


@dataclass
class Delta:
    name: str
    old: int
    new: int

    @property
    def delta(self) -> int:
        return self.new - self.old

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "old": self.old, "new": self.new, "delta": self.delta}


@dataclass
class Diff:
    old: Analysis
    new: Analysis
    sections: list[Delta]
    packages: list[Delta]
    modules: list[Delta]

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "old": self.old.path, "new": self.new.path,
                "file_bytes": {"old": self.old.file_bytes, "new": self.new.file_bytes,
                               "delta": self.new.file_bytes - self.old.file_bytes},
                "size_source": {"old": self.old.size_source, "new": self.new.size_source},
                "sections": [d.to_json() for d in self.sections],
                "packages": [d.to_json() for d in self.packages],
                "modules": [d.to_json() for d in self.modules]}


def _deltas(old: dict[str, int], new: dict[str, int]) -> list[Delta]:
    out = [Delta(k, old.get(k, 0), new.get(k, 0)) for k in set(old) | set(new)]
    return sorted((d for d in out if d.delta), key=lambda d: (-abs(d.delta), d.name))


def diff(old_path: str, new_path: str) -> Diff:
    old, new = (analyze_target(p) for p in (old_path, new_path))
    if not isinstance(old, Analysis) or not isinstance(new, Analysis):
        raise BadInput("--diff compares two binaries, not images")
    return Diff(old, new, _deltas(old.groups, new.groups),
                _deltas({p.name: p.bytes for p in old.packages}, {p.name: p.bytes for p in new.packages}),
                _deltas({m.name: m.bytes for m in old.modules}, {m.name: m.bytes for m in new.modules}))
