"""Sections grouped for people. The listed bytes add up to the file size exactly: whatever no section
covers (ELF header, program and section header tables, alignment gaps) is counted as headers/padding."""

from __future__ import annotations

from dataclasses import dataclass

from .elf import ElfFile

GROUPS = ("code", "read-only data", "Go function table", "type and itab data", "data", "symbol tables",
          "DWARF", "build info", "dynamic linking", "notes", "other sections", "headers and padding")


def group_of(name: str) -> str:
    if name in (".text", ".init", ".fini", ".plt", ".plt.got", ".plt.sec") or name.startswith(".text."):
        return "code"
    if name in (".gopclntab", ".data.rel.ro.gopclntab"):
        return "Go function table"
    if name in (".typelink", ".itablink", ".data.rel.ro.typelink", ".data.rel.ro.itablink"):
        return "type and itab data"
    if name in (".rodata", ".data.rel.ro", ".eh_frame", ".eh_frame_hdr", ".gcc_except_table") \
            or name.startswith(".rodata") or name.startswith(".data.rel.ro."):
        return "read-only data"
    if name in (".data", ".noptrdata", ".go.fuzzcntrs", ".init_array", ".fini_array", ".tdata",
                ".got", ".got.plt") or name.startswith(".data."):
        return "data"
    if name in (".symtab", ".strtab", ".gosymtab"):
        return "symbol tables"
    if name.startswith(".debug_") or name.startswith(".zdebug_"):
        return "DWARF"
    if name == ".go.buildinfo":
        return "build info"
    if name in (".interp", ".dynamic", ".dynsym", ".dynstr", ".hash", ".gnu.hash") or name.startswith(
            (".rela", ".rel.", ".gnu.version")):
        return "dynamic linking"
    if name.startswith(".note"):
        return "notes"
    if name == ".shstrtab":
        return "headers and padding"
    return "other sections"


UNCOVERED = "(headers and padding)"  # bytes no section covers: ELF header, header tables, alignment gaps


@dataclass(frozen=True)
class SectionSize:
    name: str
    group: str
    bytes: int
    compressed: bool = False


def sizes(elf: ElfFile) -> tuple[list[SectionSize], dict[str, int], bool]:
    """Per-section sizes, per-group totals, and whether the accounting is exact (no overlaps)."""
    out = [SectionSize(s.name or "(unnamed)", group_of(s.name), s.size, s.compressed)
           for s in elf.sections if s.occupies_file]
    groups = {g: 0 for g in GROUPS}
    for s in out:
        groups[s.group] += s.bytes
    covered = sum(groups.values())
    rest = elf.size - covered
    exact = rest >= 0
    groups["headers and padding"] += max(rest, 0)
    if rest > 0:  # listed as an entry too, so `sections` alone adds up to the file size
        out.append(SectionSize(UNCOVERED, "headers and padding", rest))
    return out, {k: v for k, v in groups.items() if v}, exact
