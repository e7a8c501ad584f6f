"""The binary's layer cache: an identical tar reuses its compressed blob, anything else recompresses, and a
corrupted entry is refused (rebuilt), never handed out."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import pytest

from slimgo.errors import BadInput
from slimgo.oci import compress, layer_cache
from slimgo.oci import layer as layer_mod
from slimgo.oci.cache import LayerCache
from slimgo.oci.layer import Entry, dir_entry, write_layer
from slimgo.oci.layer_cache import cache_key, cached_layer, tar_digest
from tests.support.hostile import build_elf


def _entries(binary: Path) -> list[Entry]:
    return [dir_entry("app"), Entry("app/prog", "file", 0o755, source=binary)]


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    path = tmp_path / "prog"
    path.write_bytes(os.urandom(300_000) + b"\0" * 300_000)
    return path


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a layer was really compressed."""
    calls: list[int] = []
    real = layer_mod.write_layer

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(layer_cache, "write_layer", spy)
    return calls


def test_tar_digest_is_the_layers_diff_id(tmp_path: Path, binary: Path) -> None:
    written = write_layer(_entries(binary), tmp_path / "blobs", mtime=7)
    assert tar_digest(_entries(binary), 7) == (written.diff_id, written.uncompressed_size)


def test_identical_binary_reuses_the_compressed_blob(tmp_path: Path, binary: Path, counted: list[int]) -> None:
    cache = LayerCache(tmp_path / "cache")
    first = cached_layer(_entries(binary), tmp_path / "w1", cache, level=6, comment="prog binary")
    second = cached_layer(_entries(binary), tmp_path / "w2", cache, level=6, comment="prog binary")
    assert len(counted) == 1  # the second build compressed nothing
    assert second.descriptor == first.descriptor and second.diff_id == first.diff_id
    assert second.comment == "prog binary"
    data = second.path.read_bytes()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == second.digest
    assert "sha256:" + hashlib.sha256(gzip.decompress(data)).hexdigest() == second.diff_id
    # the cached blob is the very bytes a build without the cache writes
    plain = write_layer(_entries(binary), tmp_path / "plain", level=6)
    assert plain.digest == second.digest


def test_changed_binary_or_settings_miss(tmp_path: Path, binary: Path, counted: list[int]) -> None:
    cache = LayerCache(tmp_path / "cache")
    a = cached_layer(_entries(binary), tmp_path / "w", cache, level=6)
    b = cached_layer(_entries(binary), tmp_path / "w", cache, level=1)  # other level: other bytes
    binary.write_bytes(binary.read_bytes() + b"x")
    c = cached_layer(_entries(binary), tmp_path / "w", cache, level=6)
    d = cached_layer(_entries(binary), tmp_path / "w", cache, level=6, mtime=1)  # headers are in the key
    assert len(counted) == 4
    assert len({a.digest, b.digest, c.digest, d.digest}) == 4
    assert cache_key(a.diff_id, "gzip", 6) != cache_key(a.diff_id, "gzip", 1) != cache_key(a.diff_id, "zstd", 1)


def test_corrupted_entry_is_refused_and_rebuilt(tmp_path: Path, binary: Path, counted: list[int]) -> None:
    cache = LayerCache(tmp_path / "cache")
    good = cached_layer(_entries(binary), tmp_path / "w1", cache)
    blob = cache.blob_path(good.digest)
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, one byte flipped
    blob.write_bytes(bytes(raw))
    again = cached_layer(_entries(binary), tmp_path / "w2", cache)
    assert len(counted) == 2  # refused, compressed anew
    assert again.digest == good.digest
    assert "sha256:" + hashlib.sha256(again.path.read_bytes()).hexdigest() == good.digest


def test_no_cache_always_compresses(tmp_path: Path, binary: Path, counted: list[int]) -> None:
    one = cached_layer(_entries(binary), tmp_path / "w", None)
    two = cached_layer(_entries(binary), tmp_path / "w", None)
    assert len(counted) == 2 and one.digest == two.digest


@pytest.mark.parametrize("library", ["zlib", "zlib-ng", "isal", "libdeflate"])
def test_every_gzip_library_is_deterministic_plain_gzip(tmp_path: Path, binary: Path, library: str) -> None:
    one = write_layer(_entries(binary), tmp_path / "1", library=library)
    two = write_layer(_entries(binary), tmp_path / "2", library=library)
    assert one.digest == two.digest
    data = one.path.read_bytes()
    assert "sha256:" + hashlib.sha256(gzip.decompress(data)).hexdigest() == one.diff_id  # any gunzip reads it
    assert compress.describe("gzip", compress.check("gzip", None, library), library).startswith("gzip ")


def test_library_is_part_of_the_key_and_checked(tmp_path: Path, binary: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    z = cached_layer(_entries(binary), tmp_path / "w", cache, level=3)
    i = cached_layer(_entries(binary), tmp_path / "w", cache, level=3, library="isal")
    assert z.digest != i.digest and z.diff_id == i.diff_id
    assert compress.codec_id("gzip", "isal").startswith("isal-")
    with pytest.raises(BadInput, match="out of range for gzip \\(isal\\) \\(0-3\\)"):
        compress.check("gzip", 6, "isal")
    with pytest.raises(BadInput, match="gzip compression only"):
        compress.check("zstd", None, "isal")
    with pytest.raises(BadInput, match="unknown gzip library"):
        compress.check("gzip", None, "pigz")


def test_missing_library_is_a_one_line_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(compress.DEFLATE_LIBRARIES, "isal", "slimgo_no_such_module")
    with pytest.raises(BadInput, match="not installed"):
        compress.compressor("gzip", 3, "isal")


def _go_binary(path: Path, build_id: str, body: bytes) -> Path:
    """An ELF file with Go's build ID note (name "Go", type 4), as the linker writes it."""
    desc = build_id.encode()
    note = struct.pack("<III", 4, len(desc), 4) + b"Go\0\0" + desc + b"\0" * (-len(desc) % 4)
    path.write_bytes(build_elf([(".note.go.buildid", 7, note), (".text", 1, body)]))
    return path


GO_ID = "5Ht9M_GXgATWvhzeM2hV/eJDdG3E5JDEJa-xZciqM/4Rt9sLyOJ1ZdSv_G-sha/7RbpWNe7JktvLIiwLnNW"


def test_go_build_id_is_read_from_its_note(tmp_path: Path) -> None:
    from slimgo.binary.elf import MappedFile, go_build_id, parse

    with MappedFile(_go_binary(tmp_path / "prog", GO_ID, b"code")) as m:
        assert go_build_id(parse(m.view)) == GO_ID
    with MappedFile(_go_binary(tmp_path / "chosen", "mine", b"code")) as m:
        assert go_build_id(parse(m.view)) is None  # not Go's form: -ldflags=-buildid=mine


def test_a_binary_with_the_same_go_build_id_is_not_read_again(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cache = LayerCache(tmp_path / "cache")
    binary = _go_binary(tmp_path / "prog", GO_ID, os.urandom(200_000))
    first = layer_cache.remembered_tar_digest(_entries(binary), 0, cache)
    assert first == tar_digest(_entries(binary), 0)

    def no_read(*args: object) -> tuple[str, int]:
        raise AssertionError("the same binary was read again")

    monkeypatch.setattr(layer_cache, "tar_digest", no_read)
    os.utime(binary)  # Go touches an up-to-date output: still the same bytes
    assert layer_cache.remembered_tar_digest(_entries(binary), 0, cache) == first
    monkeypatch.undo()
    # another layer mtime, another build ID (Go relinked: new content), a file without Go's ID: hashed
    assert layer_cache.remembered_tar_digest(_entries(binary), 1, cache) == tar_digest(_entries(binary), 1)
    other = GO_ID[:-4] + "AAAA"
    _go_binary(binary, other, os.urandom(200_000))
    assert layer_cache.remembered_tar_digest(_entries(binary), 0, cache) == tar_digest(_entries(binary), 0) != first
    plain = tmp_path / "plain"
    plain.write_bytes(os.urandom(1000))
    remembered = len(list((tmp_path / "cache" / "digests").iterdir()))
    assert layer_cache.remembered_tar_digest(_entries(plain), 0, cache) == tar_digest(_entries(plain), 0)
    assert len(list((tmp_path / "cache" / "digests").iterdir())) == remembered  # nothing to remember it by


def test_a_damaged_remembered_digest_is_computed_again(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    binary = _go_binary(tmp_path / "prog", GO_ID, os.urandom(50_000))
    right = layer_cache.remembered_tar_digest(_entries(binary), 0, cache)
    for doc in (tmp_path / "cache" / "digests").iterdir():
        doc.write_text('{"diff_id": "sha256:../../etc", "size": 1}')
    assert layer_cache.remembered_tar_digest(_entries(binary), 0, cache) == right
    assert layer_cache.remembered_tar_digest(_entries(binary), 0, None) == right  # no cache: always hashed
