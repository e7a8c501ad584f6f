"""Fuzz targets, one per parser of untrusted input, each bounded to a few seconds (hypothesis).

Each asserts the parser's contract on arbitrary input: either a value, or a one-line slimgo error of the
right class; never another exception, never a path outside the root."""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("hypothesis", reason="hypothesis (a test extra) is not installed")

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from slimgo.binary import buildinfo, elf, pclntab
from slimgo.errors import BinaryFormatError, ImageFormatError, SlimgoError
from slimgo.oci import document
from slimgo.oci.digest import Digest, DigestingReader
from slimgo.platform import Platform
from slimgo.registry.auth import parse_challenge
from slimgo.sources.files import paths
from slimgo.sources.local import open_image
from slimgo.sources.unpack import unpack_layers
from tests.support.hostile import E, Layout, layer, snapshot, source_layers

FUZZ = settings(max_examples=int(os.environ.get("SLIMGO_FUZZ_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                               st.sampled_from(["manifests", "digest", "size", "mediaType", "layers", "config",
                                                "annotations", "platform", "rootfs", "diff_ids"]), inner,
                               max_size=5), max_leaves=20)


def _one_line(err: SlimgoError) -> None:
    assert "\n" not in str(err)


@FUZZ
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_fuzz_documents(data: bytes) -> None:
    try:
        doc = document.load_object(data, "doc")
        document.descriptors(doc, "manifests", "doc")
        document.diff_ids(doc, "doc")
        assert isinstance(Platform.from_oci(document.get_object(doc, "platform", "doc")).key, str)
    except ImageFormatError as exc:
        _one_line(exc)


@FUZZ
@given(json_values)
def test_fuzz_layout_index(index: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lay = Layout(index=json.dumps(index).encode())
        try:
            open_image(f"oci:{lay.write(Path(tmp) / 'l')}")
        except SlimgoError as exc:
            _one_line(exc)


names = st.lists(st.sampled_from(["a", "b", "..", ".", "", ".wh.a", ".wh..wh..opq", ".wh..", "..data", "c d"]),
                 min_size=1, max_size=4).map("/".join)
entries = st.lists(st.one_of(
    st.builds(E, names), st.builds(lambda n: E(n, "dir"), names),
    st.builds(lambda n, t: E(n, "sym", target=t), names, st.sampled_from(["/", "..", "../..", "a", "/tmp", "outside"])),
    st.builds(lambda n, t: E(n, "link", target=t), names, names)), max_size=8)


@FUZZ
@given(st.lists(entries, min_size=1, max_size=3))
def test_fuzz_layer_walk(layers: list[list[E]]) -> None:
    try:
        found = paths(source_layers([layer(e) for e in layers]))
    except ImageFormatError as exc:
        _one_line(exc)
        return
    for p in found:
        assert p.startswith("/") and ".." not in p.split("/")


@FUZZ
@given(st.lists(entries, min_size=1, max_size=3))
def test_fuzz_unpack_never_leaves_the_root(layers: list[list[E]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        arena = Path(tmp)
        (arena / "outside").mkdir()
        (arena / "outside" / "a").write_text("x")
        before = snapshot(arena / "outside")
        root = arena / "in" / "root"
        try:
            unpack_layers(source_layers([layer(e) for e in layers]), root)
        except ImageFormatError as exc:
            _one_line(exc)
        assert snapshot(arena / "outside") == before
        assert sorted(p.name for p in arena.iterdir()) == ["in", "outside"]
        assert [p.name for p in (arena / "in").iterdir()] in ([], ["root"])
        shutil.rmtree(arena / "in", ignore_errors=True)


@FUZZ
@given(st.text(max_size=200))
@example("0 0")  # found by this target: a challenge item without "=" crashed urllib's parser
@example('Bearer realm="https://x/token",service')
def test_fuzz_challenge(header: str) -> None:
    scheme, params = parse_challenge(header)
    assert scheme == scheme.lower() and all(k == k.lower() for k in params)


@FUZZ
@given(st.binary(max_size=2000), st.lists(st.integers(-5, 2100), max_size=50))
def test_fuzz_string_table(data: bytes, offsets: list[int]) -> None:
    table = elf.StringTable(data, max_name=64, budget=500)
    decoded = 0
    for off in offsets:
        name = table.get(off)
        if name is not None:
            decoded += len(name.encode("utf-8", "replace"))
    assert table.left >= -65


@FUZZ
@given(st.binary(max_size=400), st.integers(0, 15))
def test_fuzz_aligned_magic_search(noise: bytes, base: int) -> None:
    data = noise[:200] + buildinfo.MAGIC + noise[200:] + buildinfo.MAGIC
    expected = next((i for i in range(len(data)) if data.startswith(buildinfo.MAGIC, i) and (base + i) % 16 == 0), -1)
    assert buildinfo._aligned_find(memoryview(data), base, window=32) == expected


@FUZZ
@given(st.binary(min_size=16, max_size=600))
def test_fuzz_pclntab(data: bytes) -> None:
    data = b"\xf1\xff\xff\xff\0\0\x01\x08" + data[8:]
    try:
        table = pclntab.parse(memoryview(data), with_files=True)
    except BinaryFormatError as exc:
        _one_line(exc)
        return
    assert all(len(f.name) <= pclntab.MAX_NAME for f in table.funcs)


@FUZZ
@given(st.binary(max_size=3000), st.integers(0, 3100), st.booleans())
def test_fuzz_digesting_reader(data: bytes, declared: int, right_digest: bool) -> None:
    want = Digest.of(data if right_digest else data + b"x")
    reader = DigestingReader(io.BytesIO(data), want, size=declared)
    try:
        got = reader.drain()
    except ImageFormatError as exc:
        _one_line(exc)
        assert not (right_digest and declared == len(data))
        assert reader.count <= declared + 1
        return
    assert right_digest and declared == len(data) and got == want
