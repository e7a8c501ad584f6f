"""Crafted ELF files against the binary parsers: each stays within bounded time and memory, and an
unreadable part is reported, never a crash."""

from __future__ import annotations

import struct
import time

from slimgo.binary import analysis, buildinfo, elf, pclntab, symtab
from tests.support.hostile import build_elf, pclntab_120

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB = 1, 2, 3


def test_misaligned_buildinfo_magic_everywhere_is_linear() -> None:
    stride = buildinfo.MAGIC + b"\0" * (16 - len(buildinfo.MAGIC))
    segment = b"\0" + stride * ((16 << 20) // 16)  # 16 MiB of magics, each one byte off alignment
    e = elf.parse(build_elf(segments=[(1, 6, segment)]))
    t0 = time.monotonic()
    assert buildinfo.find_header(e) is None
    assert time.monotonic() - t0 < 3  # one copy per window; it was one copy of the segment per match


def test_aligned_magic_after_misaligned_ones_is_found() -> None:
    segment = b"\0" + buildinfo.MAGIC * 3
    segment += b"\0" * ((-len(segment)) % 16) + buildinfo.MAGIC + b"\0" * 64
    data = build_elf(segments=[(1, 6, segment)])
    e = elf.parse(data)
    found = buildinfo.find_header(e)
    assert found is not None and bytes(found[:len(buildinfo.MAGIC)]) == buildinfo.MAGIC


def test_pclntab_names_all_at_one_offset_are_decoded_once() -> None:
    n = 30_000
    table = pclntab.parse(memoryview(pclntab_120(n, b"a" * (1 << 20), lambda i: 0)))
    assert len(table.funcs) == n
    assert len({id(f.name) for f in table.funcs}) == 1 and len(table.funcs[0].name) == pclntab.MAX_NAME


def test_pclntab_names_at_every_offset_stop_at_the_budget() -> None:
    nametab = b"a" * (64 << 10)
    table = pclntab.parse(memoryview(pclntab_120(60_000, nametab, lambda i: i)))
    decoded = sum(len(name) for name in {f.name for f in table.funcs})
    assert table.partial and decoded <= 4 * len(nametab) + (1 << 20) + pclntab.MAX_NAME


def test_nul_free_strtab_is_bounded() -> None:
    strtab = b"a" * (1 << 20)
    count = 200_000
    syms = b"\0" * 24 + b"".join(struct.pack("<IBBHQQ", (i * 7) % len(strtab), 0x12, 0, 1, i, 1)
                                 for i in range(count))
    e = elf.parse(build_elf([(".text", SHT_PROGBITS, b"\x90" * 64), (".symtab", SHT_SYMTAB, syms),
                             (".strtab", SHT_STRTAB, strtab)]))
    t0 = time.monotonic()
    out = symtab.read(e) or []
    assert time.monotonic() - t0 < 5
    assert sum(len(s.name) for s in {s.name: s for s in out}.values()) <= 4 * len(strtab) + (2 << 20)


def test_module_attribution_is_not_packages_times_dependencies() -> None:
    mods = {f"example.com/m{i}" for i in range(20_000)}
    t0 = time.monotonic()
    for i in range(20_000):
        assert analysis._module_of(f"example.com/m{i}/sub/pkg", mods) == f"example.com/m{i}"
    assert analysis._module_of("fmt", mods) == "std"
    assert time.monotonic() - t0 < 2  # 4e8 prefix tests before


def test_corrupt_elf_gives_one_line() -> None:
    data = build_elf([(".gopclntab", SHT_PROGBITS, b"\xf1\xff\xff\xff\0\0\x01\x08" + b"\xff" * 64)])
    a = analysis.analyze_bytes(memoryview(data), "x")
    assert a.partial and all("\n" not in p for p in a.partial)
