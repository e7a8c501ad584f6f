"""inspect(binary) → BinaryFacts: one ELF parse that feeds the labels, the linking check and the base's needs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from ..base.model import Base, base_files
from ..binary import buildinfo, elf
from ..binary.buildinfo import BuildInfo
from ..binary.linking import missing_runtime_files
from ..binary.needs import Needs, of_elf
from ..errors import BadInput
from ..gobuild.build import BuiltBinary

if TYPE_CHECKING:
    from ..oci.cache import LayerCache

NEEDS_KIND = "needs"


@dataclass(frozen=True)
class BinaryFacts:
    binary: BuiltBinary
    dynamic: bool
    interpreter: str | None
    needed: tuple[str, ...]
    buildinfo: BuildInfo | None
    needs: Needs | None  # None: not asked for, or the function table is unreadable (packed binary)

    def missing_from(self, base: Base) -> list[str]:
        """Runtime files (interpreter, shared libraries) this binary needs and the base lacks."""
        if not self.dynamic:
            return []
        return missing_runtime_files(self.interpreter, self.needed, base_files(base))

    def check_fits(self, base: Base) -> None:
        missing = self.missing_from(base)
        if missing:
            b = self.binary
            raise BadInput(
                f"{b.name} ({b.platform}) is dynamically linked (cgo) but base {base.name} lacks "
                f"{', '.join(missing)}: build with CGO_ENABLED=0 or use a base with that libc")


def inspect(binary: BuiltBinary, *, with_needs: bool = True, cache: LayerCache | None = None,
            key: str = "") -> BinaryFacts:
    """with_needs reads the function table too (only the static base's selection uses it). With a cache and
    `key` (the digest of the binary's layer tar, which covers every byte of the file), the needs of a binary
    seen before come from the cache: reading the function table is most of an unchanged rebuild's image work
    (caddy has ~90,000 functions)."""
    with elf.MappedFile(binary.path) as mf:
        e = elf.parse(mf.view)
        info = buildinfo.read(e)
        needs = None
        if with_needs:
            doc_key = needs_key(key) if cache is not None and key else ""
            needs = _needs_from(cache.get_doc(NEEDS_KIND, doc_key)) if cache is not None and doc_key else None
            if needs is None:
                needs = of_elf(e)
                if needs is not None and cache is not None and doc_key:
                    cache.put_doc(NEEDS_KIND, doc_key, needs.to_json())
        return BinaryFacts(binary, e.is_dynamic, e.interpreter, tuple(e.needed), info, needs)


def needs_key(diff_id: str) -> str:
    """Only hex: a safe file name. The rules' own source is part of it, so a changed rule (or function table
    reader) never reuses an answer the old one gave."""
    return "needs-" + hashlib.sha256(f"{_rules_digest()}\0{diff_id}".encode()).hexdigest()


def _rules_digest() -> str:
    """Two small source files read per build (well under a millisecond): no memo to keep."""
    from ..binary import needs, pclntab

    h = hashlib.sha256()
    for module in (needs, pclntab):
        h.update(Path(module.__file__ or "").read_bytes())
    return h.hexdigest()


def _needs_from(doc: object) -> Needs | None:
    """A cached entry, only if it has exactly Needs' fields, each a bool."""
    names = {f.name for f in fields(Needs)}
    if not isinstance(doc, dict) or set(doc) != names or not all(isinstance(v, bool) for v in doc.values()):
        return None
    return Needs(**doc)
