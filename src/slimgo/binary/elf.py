"""A small, bounded ELF reader.

pyelftools parses lazily but its per-entry parsing is slow on 100 MB binaries; we only need the headers,
the section and program header tables, PT_INTERP and DT_NEEDED, so we read them with struct over a
memoryview. Every offset and count is checked against the file before use: hostile input must give a
BinaryFormatError, never an IndexError, a hang or a huge allocation.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInput, BinaryFormatError

ELF_MAGIC = b"\x7fELF"

# e_machine values we name; anything else is reported by number.
MACHINES = {3: "386", 40: "arm", 62: "amd64", 183: "arm64", 8: "mips", 21: "ppc64", 22: "s390x", 243: "riscv64"}

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
SHT_NOBITS, SHT_SYMTAB = 8, 2
SHF_COMPRESSED = 0x800
DT_NULL, DT_NEEDED, DT_FLAGS_1 = 0, 1, 0x6FFFFFFB
DF_1_PIE = 0x08000000
ET_DYN = 3

# Limits that no real binary reaches; they keep a lying header from costing time or memory.
MAX_SECTIONS = 65_536
MAX_SEGMENTS = 4_096
MAX_DYNAMIC = 100_000


@dataclass(frozen=True)
class Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int

    @property
    def occupies_file(self) -> bool:
        return self.type != SHT_NOBITS and self.size > 0

    @property
    def compressed(self) -> bool:
        return bool(self.flags & SHF_COMPRESSED) or self.name.startswith(".zdebug")


@dataclass(frozen=True)
class Segment:
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int


@dataclass
class ElfFile:
    """The parsed headers of one ELF file, plus a view of its bytes for the readers built on top."""

    data: memoryview
    bits: int
    little: bool
    machine: str
    etype: int
    sections: list[Section] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    interpreter: str | None = None
    needed: list[str] = field(default_factory=list)
    flags_1: int = 0

    @property
    def endian(self) -> str:
        return "<" if self.little else ">"

    @property
    def ptr_size(self) -> int:
        return self.bits // 8

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def is_dynamic(self) -> bool:
        return self.interpreter is not None or bool(self.needed)

    @property
    def is_pie(self) -> bool:
        return self.etype == ET_DYN and (self.interpreter is not None or bool(self.flags_1 & DF_1_PIE)
                                         or self.section(".data.rel.ro.gopclntab") is not None)

    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def section_bytes(self, sec: Section) -> memoryview:
        if not sec.occupies_file:
            return memoryview(b"")
        end = sec.offset + sec.size
        if end > len(self.data):
            raise BinaryFormatError(f"section {sec.name} runs past the end of the file (truncated?)")
        return self.data[sec.offset:end]

    def vaddr_to_offset(self, vaddr: int) -> int | None:
        """Map a virtual address to a file offset through the loadable segments (or sections)."""
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
                return seg.offset + (vaddr - seg.vaddr)
        for sec in self.sections:
            if sec.occupies_file and sec.addr and sec.addr <= vaddr < sec.addr + sec.size:
                return sec.offset + (vaddr - sec.addr)
        return None

    def read_at_vaddr(self, vaddr: int, size: int) -> memoryview | None:
        off = self.vaddr_to_offset(vaddr)
        if off is None or size < 0 or off + size > len(self.data):
            return None
        return self.data[off:off + size]


def _unpack(fmt: str, data: memoryview | bytes, offset: int, what: str) -> tuple[int, ...]:
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
        raise BinaryFormatError(f"truncated ELF file: {what} lies past the end of the file")
    return struct.unpack_from(fmt, data, offset)


def _cstring(data: memoryview, offset: int, limit: int = 4096) -> str:
    if offset < 0 or offset >= len(data):
        return ""
    end = min(len(data), offset + limit)
    chunk = bytes(data[offset:end])
    nul = chunk.find(b"\0")
    return (chunk if nul < 0 else chunk[:nul]).decode("utf-8", "replace")


class StringTable:
    """NUL-terminated names by offset (.strtab, pclntab's name table), each decoded once and at most
    `max_name` bytes long, within a total budget. A table without NULs, or a million entries that all
    point at one long name, would otherwise decode gigabytes; past the budget `get` returns None and
    `exhausted` is set, so the caller reports a partial result."""

    def __init__(self, data: memoryview | bytes, max_name: int = 4096, budget: int | None = None) -> None:
        self.data = data
        self.max_name = max_name
        self.left = budget if budget is not None else 4 * len(data) + (1 << 20)
        self.exhausted = False
        self._cache: dict[int, str] = {}

    def get(self, offset: int) -> str | None:
        hit = self._cache.get(offset)
        if hit is not None:
            return hit
        if offset < 0 or offset >= len(self.data):
            return None
        if self.left <= 0:
            self.exhausted = True
            return None
        chunk = bytes(self.data[offset:offset + self.max_name])
        nul = chunk.find(b"\0")
        raw = chunk if nul < 0 else chunk[:nul]
        self.left -= len(raw) + 1
        name = raw.decode("utf-8", "replace")
        self._cache[offset] = name
        return name


def parse(data: memoryview | bytes) -> ElfFile:
    """Parse an ELF file's headers from its bytes."""
    view = memoryview(data) if not isinstance(data, memoryview) else data
    if len(view) < 16 or bytes(view[:4]) != ELF_MAGIC:
        raise BinaryFormatError("not an ELF file (no \\x7fELF magic)")
    ei_class, ei_data = view[4], view[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise BinaryFormatError(f"unsupported ELF class/data ({ei_class}/{ei_data})")
    bits = 64 if ei_class == 2 else 32
    e = "<" if ei_data == 1 else ">"
    if bits == 64:
        (etype, machine, _v, _entry, phoff, shoff, flags, ehsize, phentsize, phnum, shentsize, shnum,
         shstrndx) = _unpack(e + "HHIQQQIHHHHHH", view, 16, "ELF header")
    else:
        (etype, machine, _v, _entry, phoff, shoff, flags, ehsize, phentsize, phnum, shentsize, shnum,
         shstrndx) = _unpack(e + "HHIIIIIHHHHHH", view, 16, "ELF header")
    elf = ElfFile(data=view, bits=bits, little=(e == "<"), machine=MACHINES.get(machine, f"machine-{machine}"),
                  etype=etype)
    _read_segments(elf, phoff, phentsize, phnum)
    _read_sections(elf, shoff, shentsize, shnum, shstrndx)
    _read_dynamic(elf)
    return elf


def _read_segments(elf: ElfFile, phoff: int, phentsize: int, phnum: int) -> None:
    if phnum == 0:
        return
    if phnum > MAX_SEGMENTS:
        raise BinaryFormatError(f"corrupt ELF: {phnum} program headers")
    e, view = elf.endian, elf.data
    fmt = e + ("IIQQQQQQ" if elf.bits == 64 else "IIIIIIII")
    if phentsize < struct.calcsize(fmt):
        raise BinaryFormatError("corrupt ELF: program header entries too small")
    for i in range(phnum):
        vals = _unpack(fmt, view, phoff + i * phentsize, "program header table")
        if elf.bits == 64:
            ptype, pflags, off, vaddr, _paddr, filesz, memsz, _align = vals
        else:
            ptype, off, vaddr, _paddr, filesz, memsz, pflags, _align = vals
        elf.segments.append(Segment(ptype, pflags, off, vaddr, filesz, memsz))
        if ptype == PT_INTERP:
            elf.interpreter = _cstring(view, off, min(filesz, 4096)) or None


def _read_sections(elf: ElfFile, shoff: int, shentsize: int, shnum: int, shstrndx: int) -> None:
    if shoff == 0 or shnum == 0:
        return
    if shnum > MAX_SECTIONS:
        raise BinaryFormatError(f"corrupt ELF: {shnum} sections")
    e, view = elf.endian, elf.data
    fmt = e + ("IIQQQQIIQQ" if elf.bits == 64 else "IIIIIIIIII")
    if shentsize < struct.calcsize(fmt):
        raise BinaryFormatError("corrupt ELF: section header entries too small")
    raw = []
    for i in range(shnum):
        name, stype, flags, addr, off, size, *_rest = _unpack(fmt, view, shoff + i * shentsize,
                                                               "section header table")
        raw.append((name, stype, flags, addr, off, size))
    strtab_off = raw[shstrndx][4] if 0 < shstrndx < len(raw) else -1  # SHN_UNDEF (0): no names
    for index, (name, stype, flags, addr, off, size) in enumerate(raw):
        sname = _cstring(view, strtab_off + name, 256) if strtab_off >= 0 else ""
        sec = Section(sname, stype, flags, addr, off, size)
        if sec.occupies_file and off + size > len(view):
            # The names live in a section too; when it is the one cut off, the index is all there is.
            raise BinaryFormatError(f"truncated or corrupt ELF: section {sname or f'#{index}'} ends at byte "
                                    f"{off + size}, past the end of the file ({len(view)} bytes)")
        elf.sections.append(sec)


def _read_dynamic(elf: ElfFile) -> None:
    dyn = next((s for s in elf.segments if s.type == PT_DYNAMIC), None)
    if dyn is None:
        return
    e, view = elf.endian, elf.data
    fmt = e + ("qQ" if elf.bits == 64 else "iI")
    step = struct.calcsize(fmt)
    entries: list[tuple[int, int]] = []
    count = min(dyn.filesz // step, MAX_DYNAMIC)
    for i in range(count):
        off = dyn.offset + i * step
        if off + step > len(view):
            break
        tag, val = struct.unpack_from(fmt, view, off)
        if tag == DT_NULL:
            break
        entries.append((tag, val))
    strtab_addr = next((v for t, v in entries if t == 5), None)  # DT_STRTAB
    strtab_off = elf.vaddr_to_offset(strtab_addr) if strtab_addr is not None else None
    for tag, val in entries:
        if tag == DT_NEEDED and strtab_off is not None:
            elf.needed.append(_cstring(view, strtab_off + val, 256))
        elif tag == DT_FLAGS_1:
            elf.flags_1 = val


def _open_nonblocking(path: str, flags: int) -> int:
    """For open(..., opener=): O_NONBLOCK changes nothing for a regular file, and keeps a FIFO from hanging."""
    return os.open(path, flags | os.O_NONBLOCK)


def starts_as_elf(path: str) -> bool:
    """Whether path is a regular file beginning with the ELF magic (never blocks on a FIFO or a device)."""
    try:
        with open(path, "rb", opener=_open_nonblocking) as fh:
            return stat.S_ISREG(os.fstat(fh.fileno()).st_mode) and fh.read(4) == b"\x7fELF"
    except OSError:
        return False


class MappedFile:
    """A read-only memory map of a file, usable as a context manager.

    Mapping instead of reading keeps memory flat on 200 MB binaries: only the pages we touch are loaded.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:  # O_NONBLOCK: a FIFO with no writer would block open() itself; the check below refuses it
            self._fh = open(path, "rb", opener=_open_nonblocking)
        except IsADirectoryError:
            raise BadInput(f"{path}: is a directory, not a binary") from None
        except OSError as exc:
            raise BadInput(f"{path}: cannot open ({exc.strerror})") from None
        if not stat.S_ISREG(os.fstat(self._fh.fileno()).st_mode):  # /dev/zero would map as endless zeros
            self._fh.close()
            raise BadInput(f"{path}: not a regular file (a device, pipe or socket), not a binary")
        try:
            self._map: mmap.mmap | None = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
            self.view = memoryview(self._map)
        except ValueError:  # empty file
            self._map = None
            self.view = memoryview(b"")
        except OSError as exc:
            self._fh.close()
            raise BadInput(f"{path}: cannot map ({exc.strerror})") from None

    def close(self) -> None:
        try:
            self.view.release()
            if self._map is not None:
                self._map.close()
        except BufferError:
            pass  # a slice is still referenced; the map is freed when the last one goes
        self._fh.close()

    def __enter__(self) -> "MappedFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_GO_BUILD_ID = re.compile(r"[A-Za-z0-9_-]{20,}(/[A-Za-z0-9_-]{20,}){1,3}")


def go_build_id(elf: ElfFile) -> str | None:
    """The build ID Go's linker notes in `.note.go.buildid` (note name "Go", type 4), when it has Go's form
    (action and content hashes, "/"-separated). cmd/go writes the content hash of the finished file into it,
    so two binaries with the same ID have the same bytes (unless someone chose the ID: `-ldflags=-buildid=`)."""
    sec = elf.section(".note.go.buildid")
    if sec is None:
        return None
    data = elf.section_bytes(sec)
    if len(data) < 16:
        return None
    namesz, descsz, kind = struct.unpack_from(elf.endian + "III", data, 0)
    name_end = 12 + ((namesz + 3) & ~3)
    if namesz != 4 or kind != 4 or bytes(data[12:16]) != b"Go\0\0" or name_end + descsz > len(data):
        return None
    text = bytes(data[name_end:name_end + descsz]).decode("ascii", "replace")
    return text if _GO_BUILD_ID.fullmatch(text) else None
