"""What grew or shrank between two analyses of a binary: sections, packages and modules, biggest change first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analysis import PCLNTAB, SCHEMA_VERSION, Analysis, analyze_file


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
    size_note: str = ""  # set when one side was re-sized to match the other's source

    @property
    def size_source(self) -> str:
        """The one source both sides' package sizes come from."""
        return self.old.size_source

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "old": self.old.path, "new": self.new.path,
                "file_bytes": {"old": self.old.file_bytes, "new": self.new.file_bytes,
                               "delta": self.new.file_bytes - self.old.file_bytes},
                "size_source": self.size_source, "size_source_note": self.size_note or None,
                "sections": [d.to_json() for d in self.sections],
                "packages": [d.to_json() for d in self.packages],
                "modules": [d.to_json() for d in self.modules]}


def _deltas(old: dict[str, int], new: dict[str, int]) -> list[Delta]:
    out = [Delta(k, old.get(k, 0), new.get(k, 0)) for k in set(old) | set(new)]
    return sorted((d for d in out if d.delta), key=lambda d: (-abs(d.delta), d.name))


def diff(old: Analysis, new: Analysis) -> Diff:
    """Package sizes are compared from one source: when only one side kept its symbol table, both are
    sized from the function table, so stripping symbols never shows up as a package change."""
    note = ""
    if old.size_source != new.size_source and PCLNTAB in (old.size_source, new.size_source):
        kept = "OLD" if old.size_source != PCLNTAB else "NEW"
        note = (f"only {kept} has a symbol table: both sides are sized from the function table (code only), "
                "so package deltas are code changes, not the symbol table's removal")
        old, new = (analyze_file(Path(a.path), size_source="pclntab") if a.size_source != PCLNTAB else a
                    for a in (old, new))
    return Diff(old, new, _deltas(old.groups, new.groups),
                _deltas({p.name: p.bytes for p in old.packages}, {p.name: p.bytes for p in new.packages}),
                _deltas({m.name: m.bytes for m in old.modules}, {m.name: m.bytes for m in new.modules}), note)
