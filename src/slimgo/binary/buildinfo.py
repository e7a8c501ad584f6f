"""Go build info (what `go version -m` prints), read from the binary itself.

Two layouts exist. Go >= 1.18 writes the version and module info inline after a 32-byte header as
varint-prefixed strings (flag bit 2). Older toolchains wrote two pointers to Go string headers, which we
follow through the loadable segments. The module info is framed by 16-byte sentinels on both sides.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..errors import BinaryFormatError
from .elf import ElfFile

MAGIC = b"\xff Go buildinf:"
HEADER = 32
MAX_STRING = 16 << 20  # no real module info is near 16 MiB


@dataclass
class Module:
    path: str
    version: str = ""
    sum: str = ""
    replace: "Module | None" = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"path": self.path, "version": self.version, "sum": self.sum}
        if self.replace is not None:
            out["replace"] = self.replace.to_json()
        return out


@dataclass
class BuildInfo:
    go_version: str
    path: str = ""
    main: Module | None = None
    deps: list[Module] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    inline_format: bool = True

    def setting(self, key: str, default: str = "") -> str:
        return self.settings.get(key, default)


def is_debug_build(settings: dict[str, str]) -> bool:
    """A binary compiled without optimisations and inlining, read from its recorded build settings."""
    args = settings.get("-gcflags", "").split()  # already unquoted; a hostile value cannot raise here
    flags = {a.split("=", 1)[1] if "=" in a else a for a in args}
    return "-N" in flags and "-l" in flags


def _uvarint(buf: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(10):
        if pos + i >= len(buf):
            raise BinaryFormatError("corrupt Go build info: truncated length")
        b = buf[pos + i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos + i + 1
        shift += 7
    raise BinaryFormatError("corrupt Go build info: length varint too long")


def _inline_string(buf: memoryview, pos: int) -> tuple[str, int]:
    n, pos = _uvarint(buf, pos)
    if n > MAX_STRING or pos + n > len(buf):
        raise BinaryFormatError("corrupt Go build info: string runs past the section")
    return bytes(buf[pos:pos + n]).decode("utf-8", "replace"), pos + n


def _pointer_string(elf: ElfFile, header: memoryview, at: int) -> str:
    """Old format: header holds a pointer to a Go string header {ptr, len}."""
    ps = elf.ptr_size
    e = elf.endian + ("Q" if ps == 8 else "I")
    import struct

    (addr,) = struct.unpack_from(e, header, at)
    strhdr = elf.read_at_vaddr(addr, 2 * ps)
    if strhdr is None:
        raise BinaryFormatError("corrupt Go build info: string header pointer outside the file")
    data_ptr, length = struct.unpack_from(elf.endian + ("QQ" if ps == 8 else "II"), strhdr, 0)
    if length > MAX_STRING:
        raise BinaryFormatError("corrupt Go build info: string too long")
    raw = elf.read_at_vaddr(data_ptr, length)
    if raw is None:
        raise BinaryFormatError("corrupt Go build info: string pointer outside the file")
    return bytes(raw).decode("utf-8", "replace")


def find_header(elf: ElfFile) -> memoryview | None:
    sec = elf.section(".go.buildinfo")
    if sec is not None and sec.occupies_file:
        data = elf.section_bytes(sec)
        if bytes(data[:len(MAGIC)]) == MAGIC:
            return data
    # Section headers can be stripped or renamed: the header is 16-byte aligned in a data segment.
    for seg in elf.segments:
        if seg.type != 1 or not (seg.flags & 2):  # PT_LOAD, writable
            continue
        end = min(seg.offset + seg.filesz, len(elf.data))
        chunk = elf.data[seg.offset:end]
        pos = _aligned_find(chunk, seg.offset)
        if pos >= 0:
            return chunk[pos:]
    return None


def _aligned_find(chunk: memoryview, base: int, window: int = 16 << 20) -> int:
    """The first 16-byte-aligned (in the file) MAGIC in chunk, or -1. Searched window by window, each
    window copied once: copying the segment per misaligned match made a 16 MB segment full of
    misaligned magics take minutes."""
    start = 0
    while start < len(chunk):
        block = bytes(chunk[start:start + window + len(MAGIC) - 1])
        pos = block.find(MAGIC)
        while 0 <= pos < window:
            if (base + start + pos) % 16 == 0:
                return start + pos
            pos = block.find(MAGIC, pos + 1)
        start += window
    return -1


def read(elf: ElfFile) -> BuildInfo | None:
    """Return the build info, or None when the binary has none (not a Go binary, or pre-1.13)."""
    data = find_header(elf)
    if data is None:
        return None
    if len(data) < HEADER:
        raise BinaryFormatError("corrupt Go build info: header truncated")
    flags = data[15]
    if flags & 2:
        version, pos = _inline_string(data, HEADER)
        modinfo, _ = _inline_string(data, pos)
        inline = True
    else:
        version = _pointer_string(elf, data, 16)
        modinfo = _pointer_string(elf, data, 16 + elf.ptr_size)
        inline = False
    # Sentinels: 16 bytes on each side, the closing one preceded by '\n'.
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        modinfo = modinfo[16:-16]
    else:
        modinfo = ""
    info = parse_modinfo(modinfo, version)
    info.inline_format = inline
    return info


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            out = ast.literal_eval(value)
            if isinstance(out, str):
                return out
        except (ValueError, SyntaxError):
            pass
    return value


def parse_modinfo(text: str, go_version: str = "") -> BuildInfo:
    """Parse the text form of runtime/debug.BuildInfo (the lines `go version -m` prints)."""
    info = BuildInfo(go_version=go_version)
    last: Module | None = None
    for line in text.splitlines():
        parts = line.split("\t")
        kind = parts[0]
        if kind == "path" and len(parts) >= 2:
            info.path = parts[1]
        elif kind in ("mod", "dep") and len(parts) >= 2:
            mod = Module(parts[1], parts[2] if len(parts) > 2 else "", parts[3] if len(parts) > 3 else "")
            if kind == "mod":
                info.main = mod
            else:
                info.deps.append(mod)
            last = mod
        elif kind == "=>" and len(parts) >= 2 and last is not None:
            last.replace = Module(parts[1], parts[2] if len(parts) > 2 else "", parts[3] if len(parts) > 3 else "")
        elif kind == "build" and len(parts) >= 2:
            body = "\t".join(parts[1:])
            key, value = _split_setting(body)
            info.settings[key] = value
    return info


def _split_setting(body: str) -> tuple[str, str]:
    if body.startswith('"'):
        # quoted key: find the closing quote that is not escaped
        i = 1
        while i < len(body):
            if body[i] == "\\":
                i += 2
                continue
            if body[i] == '"':
                break
            i += 1
        key, rest = _unquote(body[:i + 1]), body[i + 1:]
        return key, _unquote(rest[1:]) if rest.startswith("=") else ""
    key, _, value = body.partition("=")
    return key, _unquote(value)
