"""gobuild/rerun.py without Go: which recipes are trusted, and that a started process the plan does not ask for
is stopped and lets go of its slot's lock (the real `go build` path: tests/integration/test_rerun.py)."""

from __future__ import annotations

import fcntl
import os
import stat
import time
from pathlib import Path

import pytest

from slimgo.gobuild.outputs import TRIM_UNUSED_FOR, LinkOutputs
from slimgo.gobuild.rerun import Recipe, Rerun, read, recipe_file, start
from slimgo.gobuild.slotfile import LOCK_NAME, RECIPES


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """slimgo's cache in tmp_path, `go` the script `_setup` writes, and the test standing in tmp_path."""
    monkeypatch.setenv("SLIMGO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SLIMGO_GO", str(tmp_path / "go"))
    monkeypatch.chdir(tmp_path)


def _setup(tmp_path: Path, go_body: str = "sleep 30") -> tuple[Path, Path, Recipe]:
    """The link root with one slot, and a recipe whose `go` is a script (no Go here: only the process matters)."""
    root = tmp_path / "cache" / "link"
    slot = root / ("a" * 32)
    slot.mkdir(parents=True)
    (slot / LOCK_NAME).touch()
    go = tmp_path / "go"
    go.write_text(f"#!/bin/sh\n{go_body}\n")
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    recipe = Recipe(str(go), ("build", "-v", "-trimpath", "-ldflags=-s -w", "-o", str(slot / "prog"), "."),
                    str(tmp_path), (("CGO_ENABLED", "0"), ("GOARCH", "amd64")), str(slot))
    return root, slot, recipe


def _write(root: Path, argv: list[str], recipe: Recipe, mode: int = 0o600) -> Path:
    path = Path(recipe_file(str(root / RECIPES), os.getcwd(), argv))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(recipe.encode())
    path.chmod(mode)
    return path


def _locked(lock: Path) -> bool:
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_a_recipe_reads_back_as_written(tmp_path: Path) -> None:
    _, _, recipe = _setup(tmp_path)
    back = Recipe.decode(recipe.encode())
    assert back == recipe and back is not None and back.output == recipe.args[-2]
    assert back.environment()["CGO_ENABLED"] == "0"


@pytest.mark.parametrize("data", [b"", b"slimgo-rerun-v0\0go\0cwd\0slot\x000", b"slimgo-rerun-v1\0go\0cwd\0slot\0x",
                                  b"slimgo-rerun-v1\0go\0cwd\0slot\x005\0build", b"slimgo-rerun-v1\0go\0c\0s\x000\0NOEQUALS"])
def test_a_damaged_recipe_is_none(data: bytes) -> None:
    assert Recipe.decode(data) is None


def test_only_a_recipe_of_ours_is_read(tmp_path: Path) -> None:
    root, slot, recipe = _setup(tmp_path)
    path = _write(root, ["build"], recipe)
    assert read(str(path), str(root)) == recipe
    path.chmod(0o620)  # the group may write it
    assert read(str(path), str(root)) is None
    path.chmod(0o600)
    if os.getuid() == 0:
        os.chown(path, 4242, -1)  # somebody else's
        assert read(str(path), str(root)) is None
        os.chown(path, 0, -1)
    assert read(str(path), str(tmp_path / "elsewhere")) is None  # its slot is not one of this root's
    link = path.with_name("link")
    link.symlink_to(path)
    assert read(str(link), str(root)) is None
    for args, env in [(("run", *recipe.args[1:]), recipe.env),
                      (("build", "-v", "-toolexec=/bin/sh", *recipe.args[2:]), recipe.env),
                      (("build", "-v", "-o", "/tmp/x", *recipe.args[2:]), recipe.env),
                      (recipe.args, (("GOFLAGS", "-toolexec=/bin/sh"),)),
                      (recipe.args, (("CGO_ENABLED", "1"), ("CC", "/bin/sh")))]:
        path.write_bytes(Recipe(recipe.go, args, recipe.cwd, env, recipe.slot).encode())
        assert read(str(path), str(root)) is None, (args, env)


def test_a_build_the_plan_does_not_ask_for_is_stopped_and_unlocks(tmp_path: Path) -> None:
    root, slot, recipe = _setup(tmp_path)
    _write(root, ["build", "."], recipe)
    rerun = start(["build", "."])
    assert rerun is not None and rerun.started is not None and rerun.started.proc.poll() is None
    assert _locked(slot / LOCK_NAME)
    proc = rerun.started.proc
    other = [*recipe.command[:-1], "./other"]
    assert rerun.adopt(other, tmp_path, recipe.environment(), slot) is None
    assert proc.poll() is not None and not _locked(slot / LOCK_NAME)
    rerun.close()  # nothing left to stop


def test_the_same_build_is_handed_over_with_its_lock(tmp_path: Path) -> None:
    root, slot, recipe = _setup(tmp_path)
    _write(root, ["build", "."], recipe)
    rerun = start(["build", "."])
    assert rerun is not None
    started = rerun.adopt(recipe.command, tmp_path, recipe.environment(), slot)
    assert started is not None and rerun.started is None
    assert _locked(slot / LOCK_NAME)  # still this build's until LinkOutputs.locked closes it
    started.stop()
    assert not _locked(slot / LOCK_NAME)


def test_nothing_starts_while_another_build_holds_the_slot(tmp_path: Path) -> None:
    root, slot, recipe = _setup(tmp_path)
    _write(root, ["build", "."], recipe)
    fd = os.open(slot / LOCK_NAME, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        rerun = start(["build", "."])
        assert rerun is not None and rerun.started is None
    finally:
        os.close(fd)


def test_another_command_line_has_another_recipe(tmp_path: Path) -> None:
    root, _, recipe = _setup(tmp_path)
    _write(root, ["build", "."], recipe)
    rerun = start(["build", ".", "--json"])
    assert rerun is not None and rerun.started is None
    assert recipe_file("r", "/a", ["build"]) != recipe_file("r", "/b", ["build"])


def test_remember_replaces_the_recipe_whole(tmp_path: Path) -> None:
    root, _, recipe = _setup(tmp_path)
    rerun = Rerun(str(root / RECIPES), str(root / RECIPES / "x"))
    rerun.remember(recipe)
    rerun.remember(recipe)
    assert [p.name for p in (root / RECIPES).iterdir()] == ["x"]  # no temporary file left
    assert read(str(root / RECIPES / "x"), str(root)) == recipe


def test_trim_removes_recipes_nobody_ran_for_days(tmp_path: Path) -> None:
    root, _, recipe = _setup(tmp_path)
    old, new = _write(root, ["build", "old"], recipe), _write(root, ["build", "new"], recipe)
    gone = time.time() - TRIM_UNUSED_FOR - 60
    os.utime(old, (gone, gone))
    LinkOutputs(root).trim()
    assert not old.exists() and new.exists()
    assert (root / ("a" * 32)).is_dir()  # the slot was used recently (its lock file is new)


def test_a_cache_that_others_could_fill_starts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative $SLIMGO_CACHE names a directory inside the project one stands in (a checkout could ship
    a recipe there); a directory others may write into, or another `go`, starts nothing either."""
    root, _, recipe = _setup(tmp_path)
    _write(root, ["build", "."], recipe)
    rerun = start(["build", "."])
    assert rerun is not None and rerun.started is not None
    rerun.close()
    monkeypatch.setenv("SLIMGO_CACHE", "cache")  # the same directory, named relative to this one
    assert start(["build", "."]) is None
    monkeypatch.setenv("SLIMGO_CACHE", str(tmp_path / "cache"))
    (root / RECIPES).chmod(0o777)
    rerun = start(["build", "."])
    assert rerun is not None and rerun.started is None
    (root / RECIPES).chmod(0o755)
    monkeypatch.setenv("SLIMGO_GO", "/usr/bin/false")
    rerun = start(["build", "."])
    assert rerun is not None and rerun.started is None


def test_remember_takes_group_write_off_the_folders(tmp_path: Path) -> None:
    """Under umask 002 the link outputs' folder is group-writable, and start() would never read a recipe there."""
    root, _, recipe = _setup(tmp_path)
    root.chmod(0o775)
    rerun = start(["build", "."])
    assert rerun is not None and rerun.started is None  # not trusted as it is
    rerun.remember(recipe)
    assert not root.stat().st_mode & 0o022 and not (root / RECIPES).stat().st_mode & 0o022
    again = start(["build", "."])
    assert again is not None and again.started is not None
    again.close()


def test_a_cache_nothing_is_reused_from_is_named_in_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from slimgo.stages import plan as plan_mod

    assert plan_mod.cache_notes() == []  # absolute and writable (the fixture's)
    monkeypatch.setenv("SLIMGO_CACHE", "relcache")
    (note,) = plan_mod.cache_notes()
    assert "relative path (relcache)" in note and str(tmp_path / "relcache") in note
    monkeypatch.setenv("SLIMGO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(plan_mod.os, "access", lambda path, mode: False)  # a read-only mount, say
    (note,) = plan_mod.cache_notes()
    assert note.startswith(f"slimgo's cache ({tmp_path / 'cache'}) cannot be written")
