"""libdeflate layers: one gzip member per 1 MiB block (libdeflate has no preset dictionary). The members
must join into the exact input for any gzip reader, carry slimgo's fixed header, and be the same bytes
however the input is fed and however many threads compress it."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from slimgo.errors import BadInput
from slimgo.oci import compress

pytest.importorskip("hypothesis", reason="hypothesis (a test extra) is not installed")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

BLOCK = compress.BLOCK


def _sample(size: int) -> bytes:
    """Part random, part repetitive: like a binary, some of it compresses and some does not."""
    text = b"runtime.gcBgMarkWorker\0net/http.(*conn).serve\0" * (size // 40 + 1)
    return (os.urandom(size // 4) + text)[:size]


def _gzip(data: bytes, chunk: int, workers: int | None = None, level: int = 6) -> bytes:
    comp = compress.ParallelGzip(level, workers=workers, library="libdeflate")
    out = [comp.compress(data[i:i + chunk]) for i in range(0, len(data), chunk)]
    return b"".join(out) + comp.flush()


def _members(blob: bytes) -> list[tuple[int, bytes]]:
    """Each member's offset in a gzip file and its content; zlib checks each one's CRC and size."""
    parts, offset = [], 0
    while offset < len(blob):
        d = zlib.decompressobj(31)
        content = d.decompress(blob[offset:])
        assert d.eof, "a member was cut short"
        parts.append((offset, content))
        offset = len(blob) - len(d.unused_data)
    return parts


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17])
def test_members_join_into_the_input(size: int) -> None:
    data = _sample(size)
    blob = _gzip(data, chunk=300_007)
    assert gzip.decompress(blob) == data
    parts = _members(blob)
    assert b"".join(c for _, c in parts) == data
    assert len(parts) == max(1, -(-size // BLOCK))  # one member per block; an empty input is one member
    assert all(len(c) == BLOCK for _, c in parts[:-1])
    # every member starts with the fixed header: no mtime, no name, XFL 0, OS unknown
    assert all(blob[o:o + len(compress.GZIP_HEADER)] == compress.GZIP_HEADER for o, _ in parts)


def test_same_bytes_whatever_the_feeding_and_the_threads() -> None:
    data = _sample(5 * BLOCK + 12345)
    first = _gzip(data, chunk=BLOCK, workers=1)
    assert _gzip(data, chunk=65_536, workers=4) == first
    assert _gzip(data, chunk=len(data), workers=2) == first


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=6000), st.integers(min_value=0, max_value=12))
def test_round_trip_any_input_any_level(data: bytes, chunk: int, level: int) -> None:
    assert gzip.decompress(_gzip(data, chunk, workers=2, level=level)) == data


def test_levels_codec_and_label() -> None:
    assert compress.check("gzip", None, "libdeflate") == 6
    assert compress.check("gzip", 12, "libdeflate") == 12
    with pytest.raises(BadInput, match=r"out of range for gzip \(libdeflate\) \(0-12\)"):
        compress.check("gzip", 13, "libdeflate")
    with pytest.raises(BadInput, match="gzip compression only"):
        compress.check("zstd", None, "libdeflate")
    codec = compress.codec_id("gzip", "libdeflate")
    assert codec == f"libdeflate-{compress.library_version('libdeflate')}/members-{BLOCK}"
    assert compress.codec_id("gzip", "zlib").endswith(f"/blocks-{BLOCK}")  # the primed stream is named apart
    assert compress.describe("gzip", 6, "libdeflate") == f"gzip 6 {codec}"


def test_missing_deflate_package_is_a_one_line_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(compress.DEFLATE_LIBRARIES, "libdeflate", "slimgo_no_such_module")
    with pytest.raises(BadInput, match="reinstall slimgo, which depends on the deflate package"):
        compress.compressor("gzip", 6, "libdeflate")
