"""Package sizes from the ELF symbol table, computed by columns: analyze's hot path.

caddy has ~90,000 symbols, and one Python object per symbol (decode the name, find its package, add its
size) cost more than `go tool nm -size` takes in all. Here the entries are read as array columns; the
string table is matched once by a regular expression that yields one match per run of consecutive names
of one package (the linker writes a package's symbols together: caddy's 89,000 names are about 4,000 runs);
and each run's bytes come from prefix sums. Function names stay bytes: `StrtabNames` finds them in the
string table. The result equals `symtab.from_symbols(symtab.read(elf))` (tests/unit/test_symsizes.py);
tables this does not take (more strings than symbols, a decoding budget run out) fall back to that.
"""

from __future__ import annotations

import re
import sys
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, compress, groupby, repeat
from operator import mul, sub

from . import symtab
from .elf import ElfFile, StringTable
from .pclntab import package_of
from .symtab import MAX_NAME, OTHER, SHN_LORESERVE, STT_FUNC, SymbolSizes


def _continued(group: int) -> bytes:
    """More names of the package in `group`: "PKG." then no "/" (and brackets only as in `_RUNS`' second
    alternative), so each one's last "/" and first "." after it are PKG's own."""
    return rb"(?:\%d\.[^\0/\[]*+(?:\[[^\0]*\][^\0/\]]*+)?\0)*" % group


# One match per run of NUL-terminated names that share a package; its group gives the package:
#   1  "go:" or "type:": compiler-made symbols, grouped by that prefix (brackets cannot change it);
#   2  a name with "[" (a generic instantiation) whose "[...]" follows the package's "." with no "/" after
#      the last "]": package_of removes the brackets first, which leaves that package;
#   3  any other name with "[": the whole name, left to package_of;
#   4  the package: up to the first "." after the last "/" (debug/gosym's rule);
#   none: no "." after the last "/", so no package.
# `[^\0]` scans fastest, so names without "[" (most) are matched with it; atomic and possessive parts and
# the runs' fixed prefixes keep the pass linear in the table's size.
_RUNS = re.compile(
    rb"((?:go|type):)[^\0]*\0(?:\1[^\0]*\0)*"
    rb"|(?=[^\0]*\[)"
    rb"(?:((?>(?:[^\0\[]*/)?)[^\0/.\[]*+)(?=\.[^\0\[]*+\[[^\0]*\][^\0/\]]*+\0)[^\0]*\0" + _continued(2) +
    rb"|([^\0]*+)\0)"
    rb"|((?>(?:[^\0]*/)?)[^\0/.]*+)\.[^\0]*\0" + _continued(4) +
    rb"|[^\0]*\0")
_FUNC = bytes(int(b & 0xF == STT_FUNC) for b in range(256))  # st_info → 1 for a function
_NOT = bytes([1, 0] + [0] * 254)  # 0/1 flags → their negation


@dataclass
class _Columns:
    offsets: list[int]  # st_name
    sizes: list[int]  # st_size
    in_file: bytes  # 1 where the symbol's bytes are in the file
    functions: bytes  # 1 where st_info says STT_FUNC


class StrtabNames:
    """Function names found in the string table's bytes: a name is a function's when a function symbol
    with a size points at its first byte. Prefixes are compared as UTF-8 bytes. `extra` holds names that
    start inside another string (a linker's tail merging), decoded one by one."""

    def __init__(self, strtab: bytes, cols: _Columns, ascending: bool, extra: set[str]) -> None:
        self.strtab = strtab  # ends with a NUL
        self._cols = cols
        self._ascending = ascending  # offsets strictly ascending: found by bisection, no set built
        self._starts: set[int] | None = None
        self.extra = extra

    def _is_function(self, offset: int) -> bool:
        cols = self._cols
        if self._ascending:
            i = bisect_left(cols.offsets, offset)
            return i < len(cols.offsets) and cols.offsets[i] == offset and bool(cols.functions[i] and cols.sizes[i])
        if self._starts is None:
            self._starts = {o for o, f, z in zip(cols.offsets, cols.functions, cols.sizes) if f and z}
        return offset in self._starts

    def _function_at(self, needle: bytes) -> bool:
        """Whether needle (a name's bytes, perhaps with its NUL) starts a function's name."""
        s = self.strtab
        if s.startswith(needle) and self._is_function(0):
            return True
        needle = b"\0" + needle
        pos = s.find(needle)
        while pos >= 0:
            if self._is_function(pos + 1):
                return True
            pos = s.find(needle, pos + 1)
        return False

    def __contains__(self, name: str) -> bool:
        return self._function_at(name.encode() + b"\0") or name in self.extra

    def any_startswith(self, prefixes: tuple[str, ...]) -> bool:
        return any(self._function_at(p.encode()) for p in prefixes) or \
            any(n.startswith(prefixes) for n in self.extra)


def sizes(elf: ElfFile) -> SymbolSizes | None:
    """Per-package sizes from the symbol table; None without one, or when no symbol has a size."""
    found = symtab.tables(elf)
    if found is None:
        return None
    result = _bulk(elf, *found)
    if result is None:
        syms = symtab.read(elf)
        result = symtab.from_symbols(syms) if syms else None
    return result if result is not None and result.symbols else None


def _column(raw: bytes, itemsize: int, start: int, step: int, swap: bool) -> array[int]:
    whole = array(next(c for c in "BHILQ" if array(c).itemsize == itemsize))
    whole.frombytes(raw)
    column = whole[start::step]
    if swap:
        column.byteswap()
    return column


def _columns(elf: ElfFile, raw: bytes) -> _Columns:
    swap = elf.little != (sys.byteorder == "little")
    if elf.bits == 64:  # st_name u32, st_info u8, st_other u8, st_shndx u16, st_value u64, st_size u64
        offsets, shndx, size = _column(raw, 4, 0, 6, swap), _column(raw, 2, 3, 12, swap), _column(raw, 8, 2, 3, swap)
        info = raw[4::24]
    else:  # st_name u32, st_value u32, st_size u32, st_info u8, st_other u8, st_shndx u16
        offsets, shndx, size = _column(raw, 4, 0, 4, swap), _column(raw, 2, 7, 8, swap), _column(raw, 4, 2, 4, swap)
        info = raw[12::16]
    return _Columns(offsets=offsets.tolist(), sizes=size.tolist(), in_file=_in_file(elf, shndx),
                    functions=info.translate(_FUNC))


def _in_file(elf: ElfFile, shndx: array[int]) -> bytes:
    """1 where st_shndx puts the symbol's bytes in the file: defined, not special, not in a NOBITS section."""
    empty = {i for i in symtab.nobits(elf) if i < SHN_LORESERVE}
    if max(empty, default=0) < 256:  # as usual: decided by each index's two bytes, each through a table
        raw = shndx.tobytes()
        low, high = (raw[0::2], raw[1::2]) if sys.byteorder == "little" else (raw[1::2], raw[0::2])
        low_ok = bytes(int(i != 0 and i not in empty) for i in range(256))
        high_zero = bytes([1] + [0] * 255)
        high_other = bytes([0] + [1] * 254 + [0])  # 0x01xx-0xFExx: ordinary indexes (0xFFxx are special)
        return _or(_and(high.translate(high_zero), low.translate(low_ok)), high.translate(high_other))
    table = bytearray(1 << 16)
    table[1:SHN_LORESERVE] = b"\x01" * (SHN_LORESERVE - 1)
    for i in empty:
        table[i] = 0
    return bytes(map(table.__getitem__, shndx))


def _and(a: bytes, b: bytes) -> bytes:
    """Two 0/1 flag strings of one length, ANDed (as big integers: no loop in Python)."""
    return (int.from_bytes(a, "little") & int.from_bytes(b, "little")).to_bytes(len(a), "little")


def _or(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


def _runs(strtab: bytes, starts: list[int]) -> tuple[list[bytes], list[int]]:
    """Each run's package key (a `_RUNS` group) and how many names it holds (`starts`: each name's offset)."""
    keys: list[bytes] = []
    ends: list[int] = []
    for m in _RUNS.finditer(strtab):
        group = m.lastindex
        keys.append(m.group(group) if group else b"")
        ends.append(m.end())
    first = list(map(bisect_left, repeat(starts), ends))  # the index of the name after each run
    return keys, list(map(sub, first, [0, *first[:-1]]))


def _bulk(elf: ElfFile, raw_view: memoryview, strtab_view: memoryview) -> SymbolSizes | None:
    """`from_symbols(read(elf))`, by columns and runs; None for a table this does not take."""
    entry = symtab.entry_size(elf)
    count = min(len(raw_view) // entry, symtab.MAX_SYMBOLS)
    if not len(strtab_view) or not count:
        return None
    cols = _columns(elf, bytes(raw_view[:count * entry]))
    strtab = bytes(strtab_view)
    if not strtab.endswith(b"\0"):
        strtab += b"\0"  # the last name runs to the end of the section, as StringTable reads it
    nstrings = strtab.count(b"\0")
    if nstrings > 4 * count + 1024:
        return None  # mostly empty strings: keys for names no symbol uses would cost memory for nothing
    lens = list(map(len, strtab.split(b"\0")))
    starts = list(accumulate(map((1).__add__, lens), initial=0))
    keys: Sequence[bytes | str | None]
    keys, counts = _runs(strtab, starts)
    # Go's linker writes the names in symbol order, one each: then runs of names are runs of symbols.
    aligned = count <= nstrings and cols.offsets == starts[:count]
    extra: set[str] = set()
    longest = max(lens)
    if not aligned or longest > MAX_NAME:
        per_string: list[bytes | str | None] = list(chain.from_iterable(map(repeat, keys, counts)))
        if longest > MAX_NAME:  # StringTable decodes a name's first MAX_NAME bytes only: so does this
            for i, n in enumerate(lens[:nstrings]):
                if n > MAX_NAME:
                    per_string[i] = _package_of_bytes(strtab[starts[i]:starts[i] + MAX_NAME])
        if aligned:
            per_symbol = per_string[:count]
        else:
            per_symbol = list(map(dict(zip(starts, per_string)).get, cols.offsets))
            if None in per_symbol and not _resolve_misses(per_symbol, cols, strtab_view, extra):
                return None
        keys, counts = [], []
        for key, run in groupby(per_symbol):
            keys.append(key)
            counts.append(len(list(run)))
    bss = sum(compress(cols.sizes, cols.in_file.translate(_NOT)))
    names = StrtabNames(strtab, cols, aligned, extra)
    return SymbolSizes(_sum_runs(keys, counts, cols), bss, names, len(cols.sizes) - cols.sizes.count(0))


def _sum_runs(keys: Sequence[bytes | str | None], counts: list[int], cols: _Columns) -> dict[str, int]:
    """File bytes per package: each run's from prefix sums (runs past the last symbol are cut off)."""
    file_bytes = list(accumulate(map(mul, cols.sizes, cols.in_file), initial=0))
    last = len(cols.sizes)
    per_key: dict[bytes | str | None, int] = {}
    pos = 0
    for key, n in zip(keys, counts):
        end = min(pos + n, last)
        per_key[key] = per_key.get(key, 0) + file_bytes[end] - file_bytes[pos]
        pos = end
    packages: dict[str, int] = defaultdict(int)
    for key, size in per_key.items():
        if key is not None and size:  # a package whose symbols have no size is not listed
            packages[key if isinstance(key, str) else _package_of_key(key)] += size
    return dict(packages)


def _resolve_misses(per_symbol: list[bytes | str | None], cols: _Columns, strtab: memoryview,
                    extra: set[str]) -> bool:
    """Names that do not start a string (a linker's tail merging, or a bad offset), read one by one as
    `read` does. A symbol whose name cannot be read is left out (its size set to 0); False when the decoding
    budget runs out, where `read` stops: the caller then uses `read` itself."""
    table = StringTable(strtab, MAX_NAME)
    for i, key in enumerate(per_symbol):
        if key is not None or not cols.sizes[i]:
            continue
        name = table.get(cols.offsets[i])
        if name is None:
            if table.exhausted:
                return False
            cols.sizes[i] = 0
            continue
        per_symbol[i] = package_of(name) or OTHER
        if cols.functions[i]:
            extra.add(name)  # not at a string's start: never found by StrtabNames' search
    return True


def _package_of_bytes(name: bytes) -> str:
    return package_of(name.decode("utf-8", "replace")) or OTHER


def _package_of_key(key: bytes) -> str:
    """A `_RUNS` group → the package (what package_of gives for each name of the run)."""
    if b"[" in key:
        return _package_of_bytes(key)
    if key in (b"go:", b"type:"):
        return key.decode() + "*"
    return key.decode("utf-8", "replace") or OTHER
