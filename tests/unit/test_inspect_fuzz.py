"""Hostile layers: mutated and truncated tars (plain and gzip) must give ImageFormatError or a result,
never another exception, and quickly (hypothesis's deadline bounds each example)."""

from __future__ import annotations

import io
import tarfile

import pytest

pytest.importorskip("hypothesis", reason="hypothesis (a test extra) is not installed")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimgo.errors import ImageFormatError
from slimgo.inspect import fs as fs_mod
from slimgo.inspect import goview, read, startcheck, surface, waste
from tests.unit.test_inspect import image, tar_bytes

ELF_HEAD = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\x3e\x00" + bytes(44)
SEED = tar_bytes([
    ("etc", None, {}), ("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", {}), ("bin", None, {}),
    ("bin/sh", ELF_HEAD + bytes(64), {"mode": 0o4755}), ("bin/ls", "sh", {}),
    ("a/" + "n" * 120 + "/deep", b"data", {"pax_headers": {"SCHILY.xattr.security.capability": "\x01"}}),
    ("a/.wh.gone", b"", {}), ("o/.wh..wh..opq", b"", {}), ("h", "bin/sh", {"type": tarfile.LNKTYPE}),
    ("run.sh", b"#!/bin/sh\necho hi\n", {"mode": 0o755}),
])
LIMITS = read.Limits(max_entries=2000, max_header=1 << 16, max_elf=1 << 20, ratio_floor=1 << 20, max_ratio=200,
                     max_layer_bytes=8 << 20)


def _header_blocks(data: bytes) -> list[int]:
    out = []
    for off in range(0, len(data) - 511, 512):
        block = data[off:off + 512]
        field = block[148:156].strip(b" \0")
        if any(block) and field.isdigit() and sum(block[:148]) + 256 + sum(block[156:]) == int(field, 8):
            out.append(off)
    return out


HEADERS = _header_blocks(SEED)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    """Edits biased to headers, whose checksums are then fixed, so the lies reach the parser."""
    buf = bytearray(data)
    for pos, val in edits:
        buf[(HEADERS[pos % len(HEADERS)] + pos % 512) if pos & 1 else pos % len(buf)] = val
    for off in HEADERS:
        buf[off + 148:off + 156] = b"        "
        buf[off + 148:off + 156] = b"%06o\0 " % (sum(buf[off:off + 512]) & 0o777777)
    if cut is not None:
        buf = buf[: cut % (len(buf) + 1)]
    return bytes(buf)


def _run(layer: bytes, compress: bool) -> None:
    img = image(layer, compress=compress, config={"config": {"Entrypoint": ["/run.sh"], "User": "nobody"}})
    try:
        scan = read.scan(img, LIMITS)
    except ImageFormatError:
        return
    fs, _ = fs_mod.build(scan)
    waste.dive_waste(scan)
    waste.clutter(fs)
    surface.surface(scan, fs)
    startcheck.check(scan, fs)
    goview.go_binaries(scan, fs)


@settings(max_examples=250, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=12),
       cut=st.none() | st.integers(0, 1 << 16), compress=st.booleans())
def test_mutated_layers(edits: list[tuple[int, int]], cut: int | None, compress: bool) -> None:
    _run(_mutate(SEED, edits, cut), compress)


@settings(max_examples=150, deadline=2000)
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _run(data, False)
    try:
        stream = read.TarStream(io.BufferedReader(io.BytesIO(data)), 1 << 12)  # type: ignore[arg-type]
        while stream.next() is not None:
            stream.read(1 << 10)
    except ImageFormatError:
        pass
