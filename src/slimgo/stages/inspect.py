"""inspect(binary) → BinaryFacts: one ELF parse that feeds the labels, the linking check and the base's needs."""

from __future__ import annotations

from dataclasses import dataclass

from ..base.model import Base, base_files
from ..binary import buildinfo, elf
from ..binary.buildinfo import BuildInfo
from ..binary.linking import missing_runtime_files
from ..binary.needs import Needs, of_elf
from ..errors import BadInput
from ..gobuild.build import BuiltBinary


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


def inspect(binary: BuiltBinary, *, with_needs: bool = True) -> BinaryFacts:
    """with_needs reads the function table too (only the static base's selection uses it)."""
    with elf.MappedFile(binary.path) as mf:
        e = elf.parse(mf.view)
        info = buildinfo.read(e)
        needs = of_elf(e) if with_needs else None
        return BinaryFacts(binary, e.is_dynamic, e.interpreter, tuple(e.needed), info, needs)

