"""Go's function table (.gopclntab): function names and code ranges, present even in stripped binaries.

Layouts by magic: Go 1.20+ (0xfffffff1) and 1.18-1.19 (0xfffffff0) share a header of eight words after
an 8-byte preamble (nfunc, nfiles, unused textStart, then offsets of funcnametab, cutab, filetab, pctab,
functab); functab entries are two uint32 (entry offset, func offset). Go 1.16-1.17 (0xfffffffa) has no
textStart word and pointer-sized functab entries; Go 1.2-1.15 (0xfffffffb) keeps everything relative to
the table start. Every offset is bounds-checked: a lying table gives a partial result, never a hang.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import BinaryFormatError
from .elf import ElfFile, StringTable

MAGICS = {0xFFFFFFF1: "1.20", 0xFFFFFFF0: "1.18", 0xFFFFFFFA: "1.16", 0xFFFFFFFB: "1.2"}
MAX_NAME = 4096


@dataclass
class Func:
    name: str
    entry: int  # offset from the start of text
    size: int  # to the next function's entry: includes alignment padding


@dataclass
class FuncTable:
    version: str
    funcs: list[Func] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    partial: bool = False  # set when the table lied and reading stopped early


def find(elf: ElfFile) -> memoryview | None:
    for name in (".gopclntab", ".data.rel.ro.gopclntab"):
        sec = elf.section(name)
        if sec is not None and sec.occupies_file:
            return elf.section_bytes(sec)
    return None


def _cstr(buf: memoryview, off: int) -> str | None:
    if off < 0 or off >= len(buf):
        return None
    chunk = bytes(buf[off:off + MAX_NAME])
    end = chunk.find(b"\0")
    return (chunk if end < 0 else chunk[:end]).decode("utf-8", "replace")


def _header(data: memoryview) -> tuple[str, str, int, Callable[[int], int]]:
    """The layout's version, byte order, pointer size, and the header's words by index (bounds-checked)."""
    if len(data) < 16:
        raise BinaryFormatError("Go function table truncated")
    le_magic = struct.unpack_from("<I", data, 0)[0]
    be_magic = struct.unpack_from(">I", data, 0)[0]
    if le_magic in MAGICS:
        e, magic = "<", le_magic
    elif be_magic in MAGICS:
        e, magic = ">", be_magic
    else:
        raise BinaryFormatError("not a Go function table (unknown pclntab magic)")
    ptr = data[7]
    if data[4] or data[5] or ptr not in (4, 8):
        raise BinaryFormatError("corrupt Go function table header")
    pfmt = e + ("Q" if ptr == 8 else "I")

    def word(i: int) -> int:
        off = 8 + i * ptr
        if off + ptr > len(data):
            raise BinaryFormatError("Go function table header truncated")
        return int(struct.unpack_from(pfmt, data, off)[0])

    return MAGICS[magic], e, ptr, word


def function_names(data: memoryview) -> tuple[bytes, set[int]] | None:
    """Go 1.16+ keeps every function name once, NUL-terminated, in a table of its own (funcnametab): the
    names of the functions the linker kept, and of functions inlined into them. The first are the ones whose
    offsets the function table holds; those offsets are read here, the names are not decoded (caddy has
    ~90,000). None for the older layout (no such table), or a function table `parse` would call partial."""
    version, e, ptr, word = _header(data)
    if version not in ("1.20", "1.18", "1.16"):
        return None
    base = 1 if version == "1.16" else 0
    nfunc, start, end, functab = word(0), word(3 - base), word(4 - base), word(7 - base)
    field_size = 4 if version != "1.16" else ptr
    span = (2 * nfunc + 1) * field_size
    if not (0 < nfunc and 0 <= start < end <= len(data) and functab + span <= len(data)):
        return None
    values = [v[0] for v in struct.iter_unpack(e + ("I" if field_size == 4 else "Q"), data[functab:functab + span])]
    entries, offsets = values[0::2], values[1::2]
    if sorted(entries) != entries:  # code ranges must ascend (parse stops at the first that does not)
        return None
    name_at = struct.Struct(e + "i").unpack_from
    name_field = 4 if version != "1.16" else ptr  # _func.nameoff follows the entry
    funcdata = data[functab:]
    if max(offsets) + name_field + 4 > len(funcdata):
        return None
    starts = {name_at(funcdata, off + name_field)[0] for off in offsets}
    names = bytes(data[start:end])
    if min(starts) < 0 or max(starts) >= len(names) or not names.endswith(b"\0"):
        return None
    return names, starts


def parse(data: memoryview, *, with_files: bool = False, with_funcs: bool = True) -> FuncTable:
    version, e, ptr, word = _header(data)
    table = FuncTable(version)
    if version in ("1.20", "1.18", "1.16"):
        nfunc, nfiles = word(0), word(1)
        base = 1 if version == "1.16" else 0  # 1.18+ has the unused textStart word at index 2
        nametab_off = word(3 - base)
        filetab_off = word(5 - base)
        functab_off = word(7 - base)
        field_size = 4 if version != "1.16" else ptr
        funcdata_off = functab_off
    else:
        nfunc, nfiles = word(0), 0
        nametab_off, filetab_off = 0, -1
        functab_off = 8 + ptr
        field_size = ptr
        funcdata_off = 0
    # Each entry needs 2 fields: a count larger than the table can hold is a lie.
    max_funcs = max(0, (len(data) - functab_off) // (2 * field_size))
    if nfunc > max_funcs:
        table.partial = True
        nfunc = max_funcs
    if nfunc == 0 or not with_funcs:
        nfunc = 0
    ffmt = e + ("I" if field_size == 4 else "Q" if field_size == 8 else "I")
    span = (2 * nfunc + 1) * field_size
    if functab_off + span > len(data):
        table.partial = True
        nfunc = max(0, (len(data) - functab_off - field_size) // (2 * field_size))
        span = (2 * nfunc + 1) * field_size
    raw = data[functab_off:functab_off + span] if nfunc else memoryview(b"")
    values = [v[0] for v in struct.iter_unpack(ffmt, raw)]
    entries = values[0::2] or [0]  # nfunc + 1 entries: the last is the end of text
    offsets = values[1::2]
    nametab = data[nametab_off:] if 0 <= nametab_off < len(data) else memoryview(b"")
    funcdata = data[funcdata_off:] if 0 <= funcdata_off < len(data) else memoryview(b"")
    name_field = 4 if version in ("1.20", "1.18") else ptr  # _func.nameoff follows entry
    names = StringTable(nametab, MAX_NAME)
    text0 = entries[0] if version in ("1.16", "1.2") else 0
    for i in range(nfunc):
        start, end = entries[i], entries[i + 1]
        if end < start:
            table.partial = True
            break
        foff = offsets[i] + name_field
        if foff + 4 > len(funcdata):
            table.partial = True
            break
        nameoff = struct.unpack_from(e + "i", funcdata, foff)[0]
        name = names.get(nameoff)
        if name is None:
            table.partial = True
            if names.exhausted:
                break
            name = "?"
        table.funcs.append(Func(name, start - text0, end - start))
    if with_files and version in ("1.20", "1.18", "1.16") and 0 <= filetab_off < len(data):
        limit = min(nfiles, 1_000_000)
        files = _file_names(data[filetab_off:word(6 - base)], limit)  # up to pctab, the next table
        if files is not None:
            table.files = files
        else:
            pos = filetab_off
            for _ in range(limit):
                s = _cstr(data, pos)
                if s is None:
                    table.partial = True
                    break
                table.files.append(s)
                pos += len(s.encode()) + 1
    return table


def _file_names(region: memoryview, count: int) -> list[str] | None:
    """The first count names of the file table in one split, when that reads what `_cstr` would one by one
    (each name valid UTF-8, shorter than MAX_NAME, and NUL-terminated within the table); else None."""
    names = bytes(region).split(b"\0", count)
    if len(names) <= count:
        return None
    del names[count:]
    if names and max(map(len, names)) >= MAX_NAME:
        return None
    try:
        return list(map(bytes.decode, names))
    except UnicodeDecodeError:
        return None


def package_of(name: str) -> str:
    """The package path of a function or symbol name, by debug/gosym's rule.

    Generic instantiation brackets are removed first (they can hold dots and slashes); compiler-made
    symbols with a `go:` or `type:` prefix belong to no package and are grouped by that prefix.
    """
    if "[" in name:
        start, end = name.find("["), name.rfind("]")
        if end > start:
            name = name[:start] + name[end + 1:]
    if name.startswith(("go:", "type:")):
        return name.split(":", 1)[0] + ":*"
    slash = name.rfind("/")
    if slash < 0:
        slash = 0
    dot = name.find(".", slash)
    return name[:dot] if dot >= 0 else ""


def read(elf: ElfFile, *, with_files: bool = False, with_funcs: bool = True) -> FuncTable | None:
    data = find(elf)
    return None if data is None else parse(data, with_files=with_files, with_funcs=with_funcs)
