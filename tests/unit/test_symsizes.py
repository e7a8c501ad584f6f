"""symsizes (analyze's sizes by columns and runs) against its definition, symtab.from_symbols(symtab.read()):
the same packages, bytes, .bss bytes and function names, for any table: names with brackets, slashes,
`go:`/`type:` prefixes, invalid UTF-8 and over-long names; symbols in order or not, sharing names, naming
the middle of a string (a linker's tail merging) or past the table; 64 and 32 bits, both byte orders."""

from __future__ import annotations

import os
import struct
import time

import pytest

pytest.importorskip("hypothesis", reason="hypothesis (a test extra) is not installed")

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from slimgo.binary import elf, symsizes, symtab  # noqa: E402
from slimgo.binary.needs import detect  # noqa: E402
from tests.support.hostile import build_elf  # noqa: E402

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
BSS = 2  # the section index of .bss in the files below
TOKENS = [b"a", b"net", b"http", b"/", b".", b"[", b"]", b"go:", b"type:", b"go", b"type", b":", b"*", b"(",
          b")", b",", b" ", b"\xff", b"\xc3", "é".encode(), b"github.com", b"v2"]
FUZZ = settings(max_examples=int(os.environ.get("SLIMGO_FUZZ_EXAMPLES", "60")) * 3, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

names_st = st.lists(st.sampled_from(TOKENS), max_size=14).map(b"".join)
long_names = st.tuples(names_st, names_st).map(lambda t: t[0] + b"y/" * 2100 + t[1])
symbol_st = st.tuples(st.integers(0, 1 << 16), st.integers(0, 64), st.sampled_from([0, 0, 1, 7, 1 << 33]),
                      st.sampled_from([0, 1, BSS, 3, 4, 300, 0xFF00, 0xFFF1]), st.integers(0, 255))


def _file(entries: list[tuple[int, int, int, int]], strtab: bytes, bits: int = 64, little: bool = True) -> elf.ElfFile:
    """An ELF file holding the symbols (st_name, st_size, st_shndx, st_info) and the string table."""
    e = "<" if little else ">"
    if bits == 64:
        raw = b"".join(struct.pack(e + "IBBHQQ", off, info, 0, shndx, 0x1000, size) for off, size, shndx, info in entries)
    else:
        raw = b"".join(struct.pack(e + "IIIBBH", off, 0x1000, size & 0xFFFFFFFF, info, 0, shndx)
                       for off, size, shndx, info in entries)
    if bits == 64 and little:  # a whole file through the real parser
        return elf.parse(build_elf([(".text", SHT_PROGBITS, b"\x90" * 16), (".bss", SHT_NOBITS, b""),
                                    (".symtab", SHT_SYMTAB, raw), (".strtab", SHT_STRTAB, strtab)]))
    sections = [elf.Section("", 0, 0, 0, 0, 0), elf.Section(".text", SHT_PROGBITS, 0, 0, 0, 0),
                elf.Section(".bss", SHT_NOBITS, 0, 0x2000, 0, 64), elf.Section(".symtab", SHT_SYMTAB, 0, 0, 0, len(raw)),
                elf.Section(".strtab", SHT_STRTAB, 0, 0, len(raw), len(strtab))]
    return elf.ElfFile(data=memoryview(raw + strtab), bits=bits, little=little, machine="x", etype=2,
                       sections=sections)


def _layout(names: list[bytes], symbols: list[tuple[int, int, int, int, int]], how: str) -> tuple[
        list[tuple[int, int, int, int]], bytes]:
    strings = [b"", *names]
    strtab = b"\0".join(strings) + b"\0"
    starts = [0]
    for s in strings:
        starts.append(starts[-1] + len(s) + 1)
    attrs = symbols or [(0, 0, 0, 0, 0)]
    if how in ("ordered", "unterminated", "fewer"):  # as Go's linker writes them: one name per symbol, in order
        entries = [(starts[i], *attrs[i % len(attrs)][2:]) for i in range(len(strings))]
        if how == "fewer":  # names past the last symbol
            entries = entries[:max(1, len(entries) - 1 - attrs[0][0] % 4)]
        return entries, (strtab[:-1] if how == "unterminated" and strtab[-2:-1] != b"\0" else strtab)
    entries = []
    for pick, delta, size, shndx, info in symbols:
        i = pick % len(strings)
        if how == "tail":  # into the middle of a name, as a linker merging tails writes
            off = starts[i] + delta % (len(strings[i]) + 1)
        elif how == "bad" and delta % 3 == 0:
            off = len(strtab) + delta
        else:
            off = starts[i]
        entries.append((off, size, shndx, info))
    return entries, strtab


def _probes(names: list[bytes]) -> list[str]:
    """Prefixes of the names, and their suffixes (what a symbol naming the middle of a string reads)."""
    out = {""}
    for n in names:
        try:
            text = n.decode()
        except UnicodeDecodeError:
            continue
        if len(n) <= 200:
            out.update(text[:k] for k in range(len(text) + 1))
            out.update(text[k:] for k in range(len(text)))
    return sorted(out)


def _same(e: elf.ElfFile, names: list[bytes]) -> None:
    syms = symtab.read(e)
    want = symtab.from_symbols(syms) if syms else None
    got = symsizes.sizes(e)
    if want is None:
        assert got is None
        return
    assert got is not None
    assert got.packages == want.packages
    assert (got.bss_bytes, got.symbols) == (want.bss_bytes, want.symbols)
    for probe in _probes(names):
        assert (probe in got.functions) == (probe in want.functions), probe
        assert got.functions.any_startswith((probe,)) == want.functions.any_startswith((probe,)), probe
    packages = set(want.packages)
    assert detect(got.functions, packages, False) == detect(want.functions, packages, False)


@FUZZ
@given(st.lists(names_st | long_names, min_size=1, max_size=30), st.lists(symbol_st, max_size=40),
       st.sampled_from(["ordered", "ordered", "unterminated", "fewer", "shuffled", "tail", "bad"]),
       st.sampled_from([(64, True), (64, False), (32, True), (32, False)]))
@example([b"pkg.F[a/b.T].M", b"pkg.F[a/b.T].N", b"a.b[c", b"x/y.z[a]/w.v", b"go:buildid", b"type:[]int",
          b"[a]go:x", b"a.b/c", b"pkg.G", b"pkg.G[x]", b"pkg.(*T[a.b/c]).M", b"pkg.x/y.z", b"go.shape.int",
          b"go.x", b"type:.eq.x", b"net/http.Get", b"net/http.(*T).M", b"net.x", b"net/http/httptest.x",
          b"a" * 5000 + b"/b.c", b"d.e" + b"f" * 5000], [(0, 0, 5, 1, 0x12), (1, 0, 7, BSS, 0x11)], "ordered",
         (64, True))
@example([b"pkg.x", b"pkg.F[a].b/c.d", b"net.a", b"netx.b", b"net.c/d.e", b"net.f[g]h/i.j", b"x.y[z]", b"x.y]w[",
          b"type:a", b"type:b[c/d.e]", b"go:a", b"go.b"], [(0, 0, 5, 1, 0x12)], "ordered", (64, True))
@example([b"net/http.Get", b"a.b"], [(1, 4, 7, 1, 0x12), (2, 0, 7, 1, 0x12), (1, 3, 9, BSS, 0x12)], "tail",
         (32, False))
@example([b"net/http.Get", b"a.b"], [(1, 4, 7, 1, 0x12), (2, 3, 7, 1, 0x12), (1, 1, 9, 1, 0x12)], "bad", (64, True))
def test_columns_equal_the_per_symbol_definition(names: list[bytes], symbols: list[tuple[int, int, int, int, int]],
                                                 how: str, kind: tuple[int, bool]) -> None:
    entries, strtab = _layout(names, symbols, how)
    _same(_file(entries, strtab, *kind), names)


def test_runs_of_one_package_are_summed_once_per_run() -> None:
    names = [b"main.main", b"main.f", b"main.g[int]", b"fmt.Println", b"fmt.x", b"main.h", b"go:buildid",
             b"go:itab.x", b"type:*main.T", b"runtime.text"]
    strings = [b"", *names]
    strtab = b"\0".join(strings) + b"\0"
    offsets = [sum(len(s) + 1 for s in strings[:i]) for i in range(len(strings))]
    sizes = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 0]
    e = _file([(o, z, 1, 0x12) for o, z in zip(offsets, sizes)], strtab)
    got = symsizes.sizes(e)
    assert got is not None
    assert got.packages == {"main": 10 + 20 + 30 + 60, "fmt": 40 + 50, "go:*": 70 + 80, "type:*": 90}
    assert "main.g[int]" in got.functions and "runtime.text" not in got.functions  # no size: not counted
    assert symsizes._runs(strtab, offsets + [len(strtab)])[1] == [1, 3, 2, 1, 2, 1, 1]


def test_bss_and_special_sections_are_not_file_bytes() -> None:
    strtab = b"\0a.x\0a.y\0a.z\0a.w\0"
    e = _file([(0, 0, 0, 0), (1, 5, 1, 0x11), (5, 7, BSS, 0x11), (9, 11, 0xFFF1, 0x11), (13, 13, 0, 0x11)], strtab)
    got = symsizes.sizes(e)
    assert got is not None and got.packages == {"a": 5} and got.bss_bytes == 7 + 11 + 13


def test_nul_free_strtab_falls_back_and_stays_bounded() -> None:
    strtab = b"a" * (1 << 20)
    entries = [(0, 0, 0, 0)] + [((i * 7) % len(strtab), 1, 1, 0x12) for i in range(200_000)]
    e = _file(entries, strtab)
    got = symsizes.sizes(e)
    syms = symtab.read(e)
    assert got is not None and syms
    assert got.packages == symtab.from_symbols(syms).packages


def test_many_empty_strings_are_refused_before_any_key_is_built() -> None:
    strtab = b"\0" * (1 << 20)
    e = _file([(0, 0, 0, 0), (1, 4, 1, 0x12)], strtab)
    assert symsizes._bulk(e, *symtab.tables(e)) is None  # the per-symbol reader takes it
    got = symsizes.sizes(e)
    assert got is not None and got.packages == {"(other)": 4}


def test_pathological_names_take_linear_time() -> None:
    """Long names built against the expression's backtracking: many "/", unbalanced brackets, "]" runs
    before a "/", and runs broken at every name."""
    cases = [[b"a/" * 500_000 + b"b.c"], [b"p.F[" + b"]a" * 300_000 + b"/x.y"], [b"p.F[" + b"]aaaa/" * 150_000],
             [b"p.F" + b"[" * 500_000 + b"]"], [b"p.x"] + [b"p.y[" + b"]" * 1000 + b"/"] * 500,
             [b"a.x", b"b.x"] * 50_000]
    for names in cases:
        entries, strtab = _layout(names, [(0, 0, 5, 1, 0x12)], "ordered")
        e = _file(entries, strtab)
        t0 = time.monotonic()
        got = symsizes.sizes(e)
        assert time.monotonic() - t0 < 2
        syms = symtab.read(e)
        assert got is not None and syms and got.packages == symtab.from_symbols(syms).packages
