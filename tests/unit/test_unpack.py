"""compare's rootfs unpacker against escape attempts: each must fail with one line, or be applied inside
the root, and leave everything outside the root exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slimgo.errors import ImageFormatError
from slimgo.limits import UnpackLimits
from slimgo.sources.unpack import unpack_layers
from tests.support.hostile import (
    Blob,
    E,
    dir_,
    gzip_bomb,
    layer,
    link,
    many_entries_tar,
    snapshot,
    source_layers,
    sym,
)


@pytest.fixture
def arena(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "victim").write_text("secret")
    (outside / "dir" / "victim").write_text("secret2")
    os.chmod(outside / "dir", 0o700)
    return tmp_path / "parent" / "rootfs", outside


def _attempt(arena: tuple[Path, Path], *layers: list[E]) -> tuple[Path, Exception | None]:
    root, outside = arena
    root.parent.mkdir(parents=True, exist_ok=True)
    (root.parent / "sibling").write_text("keep")
    before = snapshot(outside.parent)
    error = None
    try:
        unpack_layers(source_layers([layer(e) for e in layers]), root)
    except ImageFormatError as exc:
        assert "\n" not in str(exc)
        error = exc
    after = {k: v for k, v in snapshot(outside.parent).items() if not k.startswith("parent/rootfs")}
    assert after == {k: v for k, v in before.items() if not k.startswith("parent/rootfs")}
    return root, error


def test_whiteout_through_a_symlink_to_outside(arena: tuple[Path, Path]) -> None:
    _, outside = arena
    _, err = _attempt(arena, [sym("a", str(outside))], [E("a/.wh.victim")])
    assert err is not None and "symlink" in str(err)


def test_opaque_whiteout_through_a_symlink(arena: tuple[Path, Path]) -> None:
    _, outside = arena
    _, err = _attempt(arena, [sym("a", str(outside / "dir"))], [E("a/.wh..wh..opq")])
    assert err is not None


def test_directory_entry_over_a_symlink_does_not_chmod_the_target(arena: tuple[Path, Path]) -> None:
    _, outside = arena
    root, err = _attempt(arena, [sym("a", str(outside / "dir"))], [dir_("a", 0o777)])
    assert err is None and (root / "a").is_dir() and not (root / "a").is_symlink()


def test_file_over_a_symlink_replaces_the_link(arena: tuple[Path, Path]) -> None:
    _, outside = arena
    root, err = _attempt(arena, [sym("a", str(outside / "victim"))], [E("a", data=b"mine", mode=0o777)])
    assert err is None and (root / "a").read_bytes() == b"mine"


def test_top_level_dot_dot_whiteout(arena: tuple[Path, Path]) -> None:
    _, err = _attempt(arena, [E("x")], [E(".wh...")])
    assert err is not None and "whiteout" in str(err)


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/../x", "./../x"])
def test_dot_dot_names(arena: tuple[Path, Path], name: str) -> None:
    _, err = _attempt(arena, [E(name)])
    assert err is not None and "escapes" in str(err)


def test_write_through_a_symlinked_parent(arena: tuple[Path, Path]) -> None:
    _, outside = arena
    _, err = _attempt(arena, [sym("a", str(outside))], [E("a/new", data=b"x")])
    assert err is not None and not (outside / "new").exists()


def test_relative_symlink_to_parent_then_write(arena: tuple[Path, Path]) -> None:
    _, err = _attempt(arena, [sym("up", ".."), E("up/new")])
    assert err is not None


def test_hard_link_through_a_symlink(arena: tuple[Path, Path]) -> None:
    _, outside = arena
    _, err = _attempt(arena, [sym("a", str(outside)), link("b", "a/victim")])
    assert err is not None


def test_hard_link_out_of_the_root(arena: tuple[Path, Path]) -> None:
    _, err = _attempt(arena, [link("b", "../../outside/victim")])
    assert err is not None


def test_whiteout_of_a_symlink_removes_only_the_link(arena: tuple[Path, Path]) -> None:
    _, outside = arena
    root, err = _attempt(arena, [sym("a", str(outside / "dir"))], [E(".wh.a")])
    assert err is None and not os.path.lexists(root / "a")


def test_absolute_names_land_inside(arena: tuple[Path, Path]) -> None:
    root, err = _attempt(arena, [E("/etc/passwd", data=b"root")])
    assert err is None and (root / "etc" / "passwd").read_bytes() == b"root"


def test_symlink_then_file_in_the_same_layer_through_it(arena: tuple[Path, Path]) -> None:
    _, outside = arena
    _, err = _attempt(arena, [sym("a", str(outside)), E("a/victim", data=b"pwned")])
    assert err is not None


# ---- semantics (the same as umoci's: see tests/integration/test_unpack_umoci.py) ------------------------

def test_whiteouts_opaque_root_entry_and_dotted_names(tmp_path: Path) -> None:
    lower = [E("./", "dir", mode=0o755), dir_("d"), E("d/old"), E("d/keep"), E("gone"), dir_("tree"), E("tree/x")]
    upper = [E("d/new"), E("d/.wh..wh..opq"), E(".wh.gone"), E(".wh.tree"), E("..data", data=b"k8s"),
             dir_("..2024")]
    root = unpack_layers(source_layers([layer(lower), layer(upper, compress=True)]), tmp_path / "r")
    assert sorted(os.listdir(root)) == ["..2024", "..data", "d"]
    assert sorted(os.listdir(root / "d")) == ["new"]  # same-layer entry kept, lower ones gone


def test_entry_limit(tmp_path: Path) -> None:
    blob = Blob(many_entries_tar(2000))
    with pytest.raises(ImageFormatError, match="more than 1000 entries"):
        unpack_layers(source_layers([blob]), tmp_path / "r", UnpackLimits(entries=1000))


def test_gzip_bomb_stops_at_the_byte_limit(tmp_path: Path) -> None:
    blob = Blob(gzip_bomb(32 << 20), "application/vnd.oci.image.layer.v1.tar+gzip")
    with pytest.raises(ImageFormatError, match="limit"):
        unpack_layers(source_layers([blob]), tmp_path / "r", UnpackLimits(total_bytes=8 << 20))
    assert sum(f.stat().st_size for f in (tmp_path / "r").rglob("*") if f.is_file()) <= 8 << 20
