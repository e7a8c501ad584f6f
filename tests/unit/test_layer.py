from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from slimgo.errors import BadInput
from slimgo.oci.layer import Entry, dir_entry, file_entry, tree_entries, with_parents, write_layer


def _members(path: Path, compression: str = "gzip") -> list[tarfile.TarInfo]:
    raw = gzip.decompress(path.read_bytes()) if compression == "gzip" else path.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return tar.getmembers()


def test_layer_is_reproducible_and_normalised(tmp_path: Path) -> None:
    entries = [file_entry("usr/bin/x", b"binary", 0o755), file_entry("etc/a", b"a")]
    one = write_layer(entries, tmp_path / "1", mtime=42)
    two = write_layer(list(reversed(entries)), tmp_path / "2", mtime=42)
    assert one.digest == two.digest and one.diff_id == two.diff_id
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.digest == "sha256:" + hashlib.sha256(one.path.read_bytes()).hexdigest()
    assert one.diff_id == "sha256:" + hashlib.sha256(gzip.decompress(one.path.read_bytes())).hexdigest()
    members = _members(one.path)
    # parents first, sorted, fixed owners and times, no user names
    assert [m.name for m in members] == ["etc", "etc/a", "usr", "usr/bin", "usr/bin/x"]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 42)}
    assert members[-1].mode == 0o755


def test_different_mtime_changes_digest(tmp_path: Path) -> None:
    e = [file_entry("a", b"x")]
    assert write_layer(e, tmp_path, mtime=0).digest != write_layer(e, tmp_path, mtime=1).digest


@pytest.mark.parametrize("path", ["../etc/passwd", "a/../../b"])
def test_paths_outside_the_root_are_refused(path: str) -> None:
    with pytest.raises(BadInput):
        with_parents([file_entry(path, b"x")])


def test_hardlinks_and_owners(tmp_path: Path) -> None:
    layer = write_layer([file_entry("z/a", b"same"), Entry("z/b", "hardlink", 0o644, linkname="z/a"),
                         dir_entry("home/nonroot", 0o700, 65532, 65532)], tmp_path)
    members = {m.name: m for m in _members(layer.path)}
    assert members["z/b"].islnk() and members["z/b"].linkname == "z/a"
    assert (members["home/nonroot"].uid, members["home/nonroot"].mode) == (65532, 0o700)


def test_tree_entries_refuse_escaping_symlinks(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "ok").write_text("x")
    (tmp_path / "d" / "in").symlink_to("ok")
    names = [e.path for e in tree_entries(tmp_path / "d", "app/data")]
    assert names == ["app/data", "app/data/in", "app/data/ok"]
    (tmp_path / "d" / "out").symlink_to("/etc/passwd")
    with pytest.raises(BadInput, match="outside"):
        tree_entries(tmp_path / "d", "app/data")


def test_zstd_and_none(tmp_path: Path) -> None:
    e = [file_entry("a", b"x" * 10000)]
    z = write_layer(e, tmp_path, compression="zstd", level=3)
    n = write_layer(e, tmp_path, compression="none")
    g = write_layer(e, tmp_path, compression="gzip", level=9)
    assert z.diff_id == n.diff_id == g.diff_id
    assert n.size == n.uncompressed_size
    assert z.descriptor.media_type.endswith("+zstd") and n.descriptor.media_type.endswith(".tar")
    with pytest.raises(BadInput):
        write_layer(e, tmp_path, compression="gzip", level=10)
