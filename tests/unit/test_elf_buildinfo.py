from __future__ import annotations

import struct

import pytest

from slimgo.binary import buildinfo, elf
from slimgo.errors import BinaryFormatError


def _minimal_elf64(shnum: int = 0, shoff: int = 0, phnum: int = 0) -> bytes:
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 64 if phnum else 0, shoff, 0, 64, 56, phnum, 64, shnum, 0)
    return ident + header


@pytest.mark.parametrize("data,needle", [
    (b"", "not an ELF"),
    (b"MZ\x90\x00" + bytes(100), "not an ELF"),
    (b"\x7fELF" + bytes([9, 1]) + bytes(10), "unsupported ELF class"),
    (b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + bytes(10), "truncated"),
])
def test_malformed_headers(data: bytes, needle: str) -> None:
    with pytest.raises(BinaryFormatError, match=needle):
        elf.parse(data)


def test_lying_counts_are_refused_quickly() -> None:
    with pytest.raises(BinaryFormatError):
        elf.parse(_minimal_elf64(shnum=60000, shoff=64))  # table lies past the end of the file
    parsed = elf.parse(_minimal_elf64())
    assert parsed.machine == "amd64" and parsed.sections == [] and not parsed.is_dynamic


def test_modinfo_parsing_handles_quoted_settings_and_replacements() -> None:
    text = "\n".join([
        "path\texample.com/app",
        "mod\texample.com/app\t(devel)\t",
        "dep\tgolang.org/x/text\tv0.3.0\th1:abc=",
        "=>\t../text\t(devel)\t",
        'build\t-ldflags="-s -w -X \\"main.v=1 2\\""',
        "build\tCGO_ENABLED=0",
        "build\tvcs.revision=0123abcd",
    ])
    info = buildinfo.parse_modinfo(text, "go1.22.0")
    assert info.path == "example.com/app"
    assert info.main is not None and info.main.version == "(devel)"
    assert info.deps[0].replace is not None and info.deps[0].replace.path == "../text"
    assert info.settings["-ldflags"] == '-s -w -X "main.v=1 2"'
    assert info.settings["CGO_ENABLED"] == "0"
    assert info.settings["vcs.revision"] == "0123abcd"


def test_inline_buildinfo_round_trip() -> None:
    sentinel = bytes(range(16))
    modinfo = "path\tx/y\nmod\tx/y\tv1.0.0\th1:z=\nbuild\tGOOS=linux\n"
    body = sentinel.decode("latin1") + modinfo + sentinel.decode("latin1")
    header = buildinfo.MAGIC + bytes([8, 2]) + bytes(16)

    def vstr(s: bytes) -> bytes:
        out, n = b"", len(s)
        while n >= 0x80:
            out += bytes([(n & 0x7F) | 0x80])
            n >>= 7
        return out + bytes([n]) + s

    blob = memoryview(header + vstr(b"go1.26.0") + vstr(body.encode("latin1")))
    version, pos = buildinfo._inline_string(blob, buildinfo.HEADER)
    assert version == "go1.26.0"
    with pytest.raises(BinaryFormatError):
        buildinfo._inline_string(memoryview(header + b"\xff\xff\xff\xff\x0f"), buildinfo.HEADER)
