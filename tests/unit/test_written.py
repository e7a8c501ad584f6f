"""sinks/written.py: an output is recognised as the one slimgo wrote only while it is that very file, untouched,
and the items it was written from are the same."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slimgo.sinks.content import FileItem
from slimgo.sinks.written import WrittenFiles, items_key

ITEMS = [FileItem("blobs/sha256/" + "a" * 64, source=Path("/nowhere")), FileItem("index.json", data=b"{}")]


def _written(tmp_path: Path) -> tuple[WrittenFiles, Path, str]:
    dest = tmp_path / "out.tar"
    dest.write_bytes(b"tar bytes")
    files = WrittenFiles(tmp_path / "cache" / "written")
    key = items_key("docker-archive", ITEMS, "w1")
    files.note(dest, key)
    return files, dest, key


def test_the_same_items_into_the_same_file_are_unchanged(tmp_path: Path) -> None:
    files, dest, key = _written(tmp_path)
    assert files.unchanged(dest, key)
    assert files.touch(dest, key) and files.unchanged(dest, key)  # touching notes the new times


def test_other_items_or_another_writer_are_not(tmp_path: Path) -> None:
    files, dest, key = _written(tmp_path)
    assert not files.unchanged(dest, items_key("docker-archive", [*ITEMS[:1], FileItem("index.json", data=b"[]")], "w1"))
    assert not files.unchanged(dest, items_key("docker-archive", ITEMS, "w2"))
    assert not files.unchanged(dest, items_key("oci-layout", ITEMS, "w1"))


def test_any_change_to_the_file_is_seen(tmp_path: Path) -> None:
    files, dest, key = _written(tmp_path)
    os.utime(dest, ns=(0, 0))  # times put back by hand: the change time still moves
    assert not files.unchanged(dest, key)
    files.note(dest, key)
    replaced = tmp_path / "other"
    replaced.write_bytes(b"tar bytes")
    os.replace(replaced, dest)  # another file with the same bytes: another inode
    assert not files.unchanged(dest, key)
    dest.unlink()
    assert not files.unchanged(dest, key)


def test_a_record_that_cannot_be_read_or_written_costs_a_write(tmp_path: Path) -> None:
    dest = tmp_path / "out.tar"
    dest.write_bytes(b"x")
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the folder would be")
    files = WrittenFiles(blocked / "written")
    files.note(dest, "k")  # no error
    assert not files.unchanged(dest, "k")


def _another_build_writes(dest: Path, files: WrittenFiles) -> None:
    """A concurrent slimgo build of other items renames its own tarball over dest, and notes it."""
    other = dest.parent / ".other.tmp"
    other.write_bytes(b"other tar")
    os.replace(other, dest)
    files.note(dest, items_key("docker-archive", [FileItem("index.json", data=b"[]")], "w1"))


def test_a_file_replaced_after_the_write_is_not_noted_as_this_write(tmp_path: Path) -> None:
    """Two builds into one tarball: the record must not give this build's key to the other build's file."""
    dest = tmp_path / "out.tar"
    dest.write_bytes(b"tar bytes")
    wrote = os.stat(dest)
    files = WrittenFiles(tmp_path / "cache" / "written")
    key = items_key("docker-archive", ITEMS, "w1")
    _another_build_writes(dest, files)  # between this build's rename and its note
    files.note(dest, key, wrote)
    assert not files.unchanged(dest, key)


def test_a_file_replaced_while_it_is_touched_is_written(tmp_path: Path) -> None:
    files, dest, key = _written(tmp_path)
    assert files.unchanged(dest, key)
    _another_build_writes(dest, files)  # between the check and the touch
    assert not files.touch(dest, key)
    assert not files.unchanged(dest, key)


def test_a_file_just_written_on_a_coarse_file_system_is_not_noted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Times kept to the second (simulated by rounding; reproduced on a loop-mounted `mkfs.ext4 -I 128`): an
    edit in place in the same second, same size, would leave the same identity."""
    from slimgo.sinks import written

    real = written._identity

    def coarse(path: Path) -> str | None:
        found = real(path)
        if found is None:
            return None
        fields = found.split(":")
        fields[3] = fields[4] = str(int(fields[4]) // 10**9 * 10**9)
        return ":".join(fields)

    monkeypatch.setattr(written, "_identity", coarse)
    files, dest, key = _written(tmp_path)
    with open(dest, "r+b") as fh:
        fh.write(b"T")  # same size, in place, same second
    assert not files.unchanged(dest, key)
