"""The slot of slimgo's cache where Go's link outputs stay between builds (gobuild/outputs.py), with real
`go build`s: its lock holds for whatever the program is called, and nothing planted in it is written through."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from slimgo.gobuild.build import compile_binary
from slimgo.gobuild.outputs import LOCK_NAME, LinkOutputs
from slimgo.gobuild.target import resolve
from slimgo.gobuild.toolchain import find_toolchain
from slimgo.platform import Platform
from slimgo.strategy import GoFlags


def _program(root: Path, name: str) -> Path:
    (root / name).mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/slot\n\ngo 1.21\n")
    # a string of its own, so that Go compiles the package (and says so on stderr) instead of finding it cached
    (root / name / "main.go").write_text(f'package main\n\nfunc main() {{ println("{root}") }}\n')
    return root / name


def _locked_elsewhere(lock: Path) -> bool:
    """Whether another slimgo opening the slot's lock file now would have to wait."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        assert exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
        return True
    finally:
        os.close(fd)
    return False


def test_a_program_named_lock_keeps_the_slot_locked(tmp_path: Path, go_bin: str) -> None:
    """A program called `lock` must not take the name of the slot's lock file: while Go builds into the slot,
    another slimgo (another process, another thread) must still find the slot locked."""
    toolchain = find_toolchain(go_bin)
    target = resolve(str(_program(tmp_path / "src", "lock")), toolchain)
    keep = LinkOutputs(tmp_path / "link")
    platform = Platform("linux", toolchain.goarch)
    slot = keep.slot(target, GoFlags(), platform)
    seen: list[bool] = []

    def progress(msg: str) -> None:
        seen.append(_locked_elsewhere(slot / LOCK_NAME))

    built = compile_binary(toolchain, target, GoFlags(), platform, tmp_path / "out", progress, keep=keep)
    assert built.path.read_bytes().startswith(b"\x7fELF")
    assert seen and all(seen)
    assert not (slot / LOCK_NAME).read_bytes().startswith(b"\x7fELF")  # the binary is kept beside the lock


def test_a_symlink_planted_in_the_slot_is_not_written_through(tmp_path: Path, go_bin: str) -> None:
    """Go copies its output into a setgid directory (a group's shared cache) instead of renaming it there, and
    copies through a symlink at the output's name: a link planted in the slot must go, not the file it names."""
    toolchain = find_toolchain(go_bin)
    target = resolve(str(_program(tmp_path / "src", "hi")), toolchain)
    keep = LinkOutputs(tmp_path / "link")
    platform = Platform("linux", toolchain.goarch)
    slot = keep.slot(target, GoFlags(), platform)
    slot.mkdir(parents=True)
    slot.chmod(0o2755)
    outside = tmp_path / "outside"
    outside.write_bytes(Path(go_bin).resolve().read_bytes())  # an object file: Go would write over it
    before = outside.read_bytes()
    (slot / "hi").symlink_to(outside)

    built = compile_binary(toolchain, target, GoFlags(), platform, tmp_path / "out", keep=keep)
    assert outside.read_bytes() == before
    assert built.path.read_bytes() != before and built.path.read_bytes().startswith(b"\x7fELF")


def test_a_slot_that_is_a_symlink_is_not_built_into(tmp_path: Path, go_bin: str) -> None:
    """A slot replaced by a link to another directory: Go would replace that directory's file of the
    program's name. The build links in its own work directory instead."""
    toolchain = find_toolchain(go_bin)
    target = resolve(str(_program(tmp_path / "src", "hi")), toolchain)
    keep = LinkOutputs(tmp_path / "link")
    platform = Platform("linux", toolchain.goarch)
    slot = keep.slot(target, GoFlags(), platform)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "hi").write_bytes(Path(go_bin).resolve().read_bytes())
    before = (elsewhere / "hi").read_bytes()
    slot.parent.mkdir(parents=True)
    slot.symlink_to(elsewhere)

    built = compile_binary(toolchain, target, GoFlags(), platform, tmp_path / "out", keep=keep)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["hi"] and (elsewhere / "hi").read_bytes() == before
    assert built.path.read_bytes() != before and built.path.read_bytes().startswith(b"\x7fELF")
