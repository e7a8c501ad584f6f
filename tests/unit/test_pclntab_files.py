"""The function table's file names, read in one split, against the name-by-name reading they replace:
equal for any table, whatever its names (invalid UTF-8, over-long, unterminated) or its lying counts."""

from __future__ import annotations

import os
import struct

import pytest

pytest.importorskip("hypothesis", reason="hypothesis (a test extra) is not installed")

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from slimgo.binary import pclntab  # noqa: E402

FUZZ = settings(max_examples=int(os.environ.get("SLIMGO_FUZZ_EXAMPLES", "40")) * 3, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _table(files: bytes, nfiles: int, gap: int) -> memoryview:
    """A Go 1.20 table with no functions and a file table of `files`; pctab `gap` bytes after its end."""
    header = struct.pack("<IBBBB", 0xFFFFFFF1, 0, 0, 1, 8)
    start = len(header) + 8 * 8
    pctab = start + len(files) + gap
    words = struct.pack("<8Q", 0, nfiles, 0, start, start, start, pctab, pctab)
    return memoryview(header + words + files + b"\0" * 8)


def _one_by_one(data: memoryview) -> pclntab.FuncTable:
    saved = pclntab._file_names
    pclntab._file_names = lambda region, count: None  # type: ignore[assignment]
    try:
        return pclntab.parse(data, with_files=True)
    finally:
        pclntab._file_names = saved  # type: ignore[assignment]


@FUZZ
@given(st.lists(st.binary(max_size=12) | st.sampled_from([b"/src/a.go", "é".encode(), b"\xff\xfe", b"x" * 5000]),
                max_size=20),
       st.integers(0, 30), st.integers(-3, 3), st.booleans())
@example([b"/home/u/go/src/x.go", b"/usr/local/go/src/fmt/print.go"], 2, 0, True)
def test_split_reads_what_name_by_name_reads(names: list[bytes], nfiles: int, gap: int, terminated: bool) -> None:
    files = b"\0".join(n.replace(b"\0", b"") for n in names) + (b"\0" if terminated else b"")
    data = _table(files, nfiles, max(0, gap))
    got = pclntab.parse(data, with_files=True)
    want = _one_by_one(data)
    assert (got.files, got.partial) == (want.files, want.partial)


def test_names_read_in_one_split() -> None:
    names = [b"/usr/local/go/src/fmt/print.go", b"main.go", b""]
    data = _table(b"\0".join(names) + b"\0", 3, 0)
    assert pclntab._file_names(data[72:72 + 40], 3) == [n.decode() for n in names]
    assert pclntab.parse(data, with_files=True).files == [n.decode() for n in names]
