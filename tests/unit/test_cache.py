"""The blob cache: paths only from parsed digests, blobs verified (or vouched for by slimgo's own marker),
nothing written outside the cache root, no memo files beside blobs."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from slimgo.oci.cache import LayerCache
from slimgo.oci.digest import Digest, DigestError
from slimgo.oci.model import Descriptor, Layer
from tests.support.hostile import E, diff_id, layer


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("bad", ["sha256:../../../etc/passwd", "sha256:" + "A" * 64, "../x", ""])
def test_no_path_from_an_unchecked_string(tmp_path: Path, bad: str) -> None:
    with pytest.raises(DigestError):
        LayerCache(tmp_path).blob_path(bad)


def test_ingest_measures_marks_and_stays_inside(tmp_path: Path) -> None:
    blob = layer([E("a", data=b"hello")], compress=True)
    cache = LayerCache(tmp_path / "cache")
    facts = cache.ingest(Digest.parse(blob.digest), len(blob.data), io.BytesIO(blob.data), what="layer")
    assert str(facts.digest) == blob.digest and facts.diff_id == diff_id(blob)
    assert cache.verified(facts.digest, len(blob.data)) == facts  # from the marker
    hexd = blob.digest.split(":")[1]
    assert _files(tmp_path) == {f"cache/blobs/sha256/{hexd}", f"cache/verified/sha256/{hexd}.json"}


def test_planted_blob_of_the_right_size_is_not_trusted(tmp_path: Path) -> None:
    blob = layer([E("a", data=b"hello")])
    cache = LayerCache(tmp_path)
    path = cache.blob_path(blob.digest)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * len(blob.data))  # right size, wrong bytes, no marker
    assert cache.verified(Digest.parse(blob.digest), len(blob.data)) is None


def test_blob_changed_after_its_marker_is_verified_again(tmp_path: Path) -> None:
    blob = layer([E("a", data=b"hello")])
    cache = LayerCache(tmp_path)
    d = Digest.parse(blob.digest)
    cache.ingest(d, len(blob.data), io.BytesIO(blob.data), what="layer")
    path = cache.blob_path(d)
    data = bytearray(path.read_bytes())
    data[600] ^= 1
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1, 1))
    assert cache.verified(d, len(blob.data)) is None


def test_keyed_layers_roundtrip_without_memo_files(tmp_path: Path) -> None:
    blob = layer([E("a", data=b"hello")], compress=True)
    src = tmp_path / "built.tar.gz"
    src.write_bytes(blob.data)
    built = Layer(Descriptor(blob.media_type, blob.digest, len(blob.data)), diff_id(blob), 2048, src)
    cache = LayerCache(tmp_path / "cache")
    cache.put("static-abc-gzip-6", built)
    got = cache.get("static-abc-gzip-6")
    assert got is not None and got.digest == blob.digest and got.diff_id == diff_id(blob)
    assert not [f for f in _files(tmp_path) if f.endswith(".usize")]
    assert cache.get("../../etc/passwd") is None
