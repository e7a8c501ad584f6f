"""The ELF symbol table (.symtab), when the binary was not stripped: exact sizes for code and data."""

from __future__ import annotations

import struct
from typing import NamedTuple

from .elf import SHT_NOBITS, SHT_SYMTAB, ElfFile, StringTable

MAX_SYMBOLS = 5_000_000


class Symbol(NamedTuple):
    """A tuple, not a frozen dataclass: a large binary has 10^5 symbols, and a frozen dataclass's __init__
    costs several times a tuple's (it made `analyze` slower than `go tool nm -size` on caddy)."""

    name: str
    value: int
    size: int
    kind: int  # STT_*: 1 object, 2 func
    in_file: bool  # False for .bss/.noptrbss and undefined symbols


def read(elf: ElfFile) -> list[Symbol] | None:
    sec = next((s for s in elf.sections if s.type == SHT_SYMTAB), None)
    if sec is None:
        return None
    # sh_link of .symtab names its string table; we keep no sh_link, so use .strtab by name.
    strsec = elf.section(".strtab")
    if strsec is None or not strsec.occupies_file:
        return None
    strtab = StringTable(elf.section_bytes(strsec))
    raw = elf.section_bytes(sec)
    if elf.bits == 64:
        fmt, size = elf.endian + "IBBHQQ", 24
    else:
        fmt, size = elf.endian + "IIIBBH", 16
    count = min(len(raw) // size, MAX_SYMBOLS)
    nobits = {i for i, s in enumerate(elf.sections) if s.type == SHT_NOBITS}
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
        in_file = shndx != 0 and shndx < 0xFF00 and shndx not in nobits
        out.append(Symbol(name, value, sz, info & 0xF, in_file))
    return out
