"""Hostile input: mutated real Go binaries must give slimgo's own error or a (partial) result, quickly."""

from __future__ import annotations

import os
import struct
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimgo.binary import buildinfo, elf
from slimgo.binary.analysis import analyze_bytes
from slimgo.errors import SlimgoError

pytestmark = pytest.mark.integration

SMALL = 'package main\n\nimport ("fmt"; "time")\n\nfunc main() { fmt.Println(time.Now()) }\n'


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> bytes:
    d = tmp_path_factory.mktemp("fuzzseed")
    (d / "go.mod").write_text("module example.com/fz\n\ngo 1.22\n")
    (d / "main.go").write_text(SMALL)
    subprocess.run([go_bin, "build", "-o", "fz", "."], cwd=d, check=True, env={**os.environ, "CGO_ENABLED": "0"})
    return (d / "fz").read_bytes()


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None, header_bias: bool) -> bytes:
    buf = bytearray(data)
    for pos, val in edits:
        # bias edits toward the headers and tables, where lies do the most damage
        limit = 4096 if header_bias else len(buf)
        buf[pos % limit] = val
    if cut is not None:
        buf = buf[: cut % (len(buf) + 1)]
    return bytes(buf)


def _check(data: bytes) -> None:
    t0 = time.perf_counter()
    try:
        analyze_bytes(memoryview(data), "fuzz")
    except SlimgoError:
        pass
    assert time.perf_counter() - t0 < 5.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, 1 << 24), st.integers(0, 255)), max_size=40),
       cut=st.one_of(st.none(), st.integers(0, 1 << 24)), header_bias=st.booleans())
def test_mutated_binaries_never_escape(seed: bytes, edits: list[tuple[int, int]], cut: int | None,
                                       header_bias: bool) -> None:
    _check(_mutate(seed, edits, cut, header_bias))


def test_lying_pclntab_and_buildinfo_offsets(seed: bytes) -> None:
    e = elf.parse(seed)
    for sec_name in (".gopclntab", ".go.buildinfo"):
        sec = e.section(sec_name)
        assert sec is not None
        for off in range(8, 64, 4):
            buf = bytearray(seed)
            struct.pack_into("<I", buf, sec.offset + off, 0xFFFFFFF0)
            _check(bytes(buf))


def _pointer_format_elf() -> bytes:
    """An ELF64 whose .go.buildinfo uses the pre-1.18 layout: pointers to Go string headers."""
    base = 0x400000
    version = b"go1.17.13"
    sentinel = bytes(range(16))
    modinfo = sentinel + b"path\texample.com/old\nmod\texample.com/old\tv1.2.3\th1:x=\nbuild\tGOOS=linux\n" + sentinel
    ehdr_size, phdr_size = 64, 56
    data_off = ehdr_size + phdr_size
    header_off = data_off  # 32-byte header, 16-aligned below
    header_off = (header_off + 15) // 16 * 16
    strhdr_off = header_off + 32
    version_off = strhdr_off + 32
    modinfo_off = version_off + len(version)
    end = modinfo_off + len(modinfo)
    buf = bytearray(end)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    buf[0:64] = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, base, ehdr_size, 0, 0, 64, 56, 1, 64, 0, 0)
    buf[64:120] = struct.pack("<IIQQQQQQ", 1, 6, 0, base, base, end, end, 0x1000)  # PT_LOAD rw
    buf[header_off:header_off + 16] = buildinfo.MAGIC + bytes([8, 0])
    struct.pack_into("<QQ", buf, header_off + 16, base + strhdr_off, base + strhdr_off + 16)
    struct.pack_into("<QQQQ", buf, strhdr_off, base + version_off, len(version), base + modinfo_off, len(modinfo))
    buf[version_off:modinfo_off] = version
    buf[modinfo_off:end] = modinfo
    return bytes(buf)


def test_pre_118_pointer_build_info_fixture() -> None:
    e = elf.parse(_pointer_format_elf())
    info = buildinfo.read(e)
    assert info is not None and not info.inline_format
    assert info.go_version == "go1.17.13"
    assert info.path == "example.com/old"
    assert info.main is not None and (info.main.version, info.main.sum) == ("v1.2.3", "h1:x=")
    assert info.settings == {"GOOS": "linux"}


def test_not_elf_and_truncated(tmp_path: Path, seed: bytes) -> None:
    from tests.support.cli import slimgo

    cut = tmp_path / "cut"
    cut.write_bytes(seed[:3000])
    run = slimgo("analyze", cut)
    assert run.code in (0, 2) and "Traceback" not in run.err
    if run.code == 2:
        assert run.err.count("slimgo: error:") == 1
