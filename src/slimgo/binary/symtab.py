"""The ELF symbol table (.symtab), when the binary was not stripped: exact sizes for code and data.

`read` gives one tuple per symbol and `from_symbols` sums them per package: the plain definition of what
analyze reports. analyze itself uses binary/symsizes.py, which computes the same by columns (caddy has
~90,000 symbols), and falls back to these for tables it does not take.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from .elf import SHT_NOBITS, SHT_SYMTAB, ElfFile, StringTable
from .needs import FunctionNames, NameSet
from .pclntab import package_of

MAX_SYMBOLS = 5_000_000
MAX_NAME = 4096  # bytes of a name that are decoded (StringTable's cap): both readers use it
OTHER = "(other)"  # the package of a name that has none
STT_FUNC = 2
SHN_LORESERVE = 0xFF00


class Symbol(NamedTuple):
    """A tuple, not a frozen dataclass: a large binary has 10^5 symbols, and a frozen dataclass's __init__
    costs several times a tuple's."""

    name: str
    value: int
    size: int
    kind: int  # STT_*: 1 object, 2 func
    in_file: bool  # False for .bss/.noptrbss and undefined symbols


@dataclass
class SymbolSizes:
    """What analyze takes from the symbol table: the bytes of each package, the zero-filled bytes, and the
    names of the functions, counting only symbols with a size (as `go tool nm -size` lists them)."""

    packages: dict[str, int]  # file bytes per package; OTHER for names without one
    bss_bytes: int  # .bss/.noptrbss (and undefined) symbols: a size but no file bytes
    functions: FunctionNames
    symbols: int  # how many symbols were counted


def tables(elf: ElfFile) -> tuple[memoryview, memoryview] | None:
    """The raw .symtab entries and .strtab bytes, or None when either is missing."""
    sec = next((s for s in elf.sections if s.type == SHT_SYMTAB), None)
    if sec is None:
        return None
    # sh_link of .symtab names its string table; we keep no sh_link, so use .strtab by name.
    strsec = elf.section(".strtab")
    if strsec is None or not strsec.occupies_file:
        return None
    return elf.section_bytes(sec), elf.section_bytes(strsec)


def entry_size(elf: ElfFile) -> int:
    return 24 if elf.bits == 64 else 16


def nobits(elf: ElfFile) -> set[int]:
    return {i for i, s in enumerate(elf.sections) if s.type == SHT_NOBITS}


def read(elf: ElfFile) -> list[Symbol] | None:
    found = tables(elf)
    if found is None:
        return None
    raw, strtab_bytes = found
    strtab = StringTable(strtab_bytes, MAX_NAME)
    if elf.bits == 64:
        fmt = elf.endian + "IBBHQQ"
    else:
        fmt = elf.endian + "IIIBBH"
    size = entry_size(elf)
    count = min(len(raw) // size, MAX_SYMBOLS)
    empty = nobits(elf)
    out: list[Symbol] = []
    for entry in struct.iter_unpack(fmt, raw[:count * size]):
        if elf.bits == 64:
            name_off, info, _other, shndx, value, sz = entry
        else:
            name_off, value, sz, info, _other, shndx = entry
        if sz == 0:
            continue
        name = strtab.get(name_off)
        if name is None:
            if strtab.exhausted:
                break  # a hostile table: the sizes so far stand, the rest is not read
            continue
        in_file = shndx != 0 and shndx < SHN_LORESERVE and shndx not in empty
        out.append(Symbol(name, value, sz, info & 0xF, in_file))
    return out


def from_symbols(syms: list[Symbol]) -> SymbolSizes:
    """The per-symbol definition of `symsizes.sizes` (its fallback and its test oracle)."""
    per_pkg: dict[str, int] = defaultdict(int)
    bss = 0
    for s in syms:
        if s.in_file:
            per_pkg[package_of(s.name) or OTHER] += s.size
        else:
            bss += s.size
    return SymbolSizes(dict(per_pkg), bss, NameSet({s.name for s in syms if s.kind == STT_FUNC}), len(syms))
