"""The slot of slimgo's cache where Go's link outputs stay between builds (gobuild/outputs.py), with real
`go build`s: its lock holds for whatever the program is called, and nothing planted in it is written through."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from slimgo.gobuild.build import compile_binary
from slimgo.gobuild.listing import PREFIX as LISTING_PREFIX
from slimgo.gobuild.outputs import LOCK_NAME, LinkOutputs
from slimgo.gobuild.target import Target, resolve
from slimgo.gobuild.toolchain import Toolchain, find_toolchain
from slimgo.platform import Platform
from slimgo.strategy import GoFlags
from tests.support.cli import slimgo


def _program(root: Path, name: str) -> Path:
    (root / name).mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/slot\n\ngo 1.21\n")
    # a string of its own, so that Go compiles the package (and says so on stderr) instead of finding it cached
    (root / name / "main.go").write_text(f'package main\n\nfunc main() {{ println("{root}") }}\n')
    return root / name


def _main_beside(root: Path, name: str) -> Path:
    """Another main package in the module `_program` made."""
    (root / name).mkdir(parents=True)
    (root / name / "main.go").write_text(f'package main\n\nfunc main() {{ println("{name}") }}\n')
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



def _slot_of(tmp_path: Path, go_bin: str, name: str) -> tuple[Toolchain, Target, LinkOutputs, Platform, Path]:
    """A program named `name`, and the cache slot its link output would be kept in."""
    toolchain = find_toolchain(go_bin)
    target = resolve(str(_program(tmp_path / "src", name)), toolchain)
    keep = LinkOutputs(tmp_path / "link")
    platform = Platform("linux", toolchain.goarch)
    return toolchain, target, keep, platform, keep.slot(target, GoFlags(), platform)

def test_a_program_named_lock_keeps_the_slot_locked(tmp_path: Path, go_bin: str) -> None:
    """A program called `lock` must not take the name of the slot's lock file: while Go builds into the slot,
    another slimgo (another process, another thread) must still find the slot locked."""
    toolchain, target, keep, platform, slot = _slot_of(tmp_path, go_bin, "lock")
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
    toolchain, target, keep, platform, slot = _slot_of(tmp_path, go_bin, "hi")
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
    toolchain, target, keep, platform, slot = _slot_of(tmp_path, go_bin, "hi")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "hi").write_bytes(Path(go_bin).resolve().read_bytes())
    before = (elsewhere / "hi").read_bytes()
    slot.parent.mkdir(parents=True)
    slot.symlink_to(elsewhere)

    built = compile_binary(toolchain, target, GoFlags(), platform, tmp_path / "out", keep=keep)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["hi"] and (elsewhere / "hi").read_bytes() == before
    assert built.path.read_bytes() != before and built.path.read_bytes().startswith(b"\x7fELF")


def _waiting_for_a_lock(pid: int, cache: Path) -> bool:
    """Whether process `pid` has a slot's lock file open (the test holds every lock: it is waiting for one)."""
    fds = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        return any(os.readlink(fd).startswith(str(cache)) and os.readlink(fd).endswith(f"/{LOCK_NAME}")
                   for fd in fds.iterdir())
    return False


@pytest.mark.parametrize("pattern", [False, True])
def test_sigterm_while_another_build_holds_the_slot_ends_at_once(tmp_path: Path, go_bin: str, pattern: bool) -> None:
    """Another slimgo is building into the same slot, so this one waits for its lock; SIGTERM must still end
    this one at once (exit 130), not when the other build is done. Alone, and as one of `build ./...`."""
    src = tmp_path / "src"
    _program(src, "one")
    _main_beside(src, "two")
    cache = tmp_path / "cache"
    args = ("build", "./..." if pattern else "./one", "--oci-layout", tmp_path / "out", "--sbom", "none",
            "--no-provenance")
    env = {**os.environ, "SLIMGO_CACHE": str(cache)}
    assert slimgo(*args, cwd=src, env={"SLIMGO_CACHE": str(cache)}).code == 0  # the slots exist now
    shutil.rmtree(tmp_path / "out")
    held = [os.open(lock, os.O_RDWR) for lock in (cache / "link").glob(f"*/{LOCK_NAME}")]
    try:
        for fd in held:
            fcntl.flock(fd, fcntl.LOCK_EX)
        proc = subprocess.Popen([sys.executable, "-m", "slimgo", *map(str, args)], cwd=src, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not _waiting_for_a_lock(proc.pid, cache) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert _waiting_for_a_lock(proc.pid, cache)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    finally:
        for fd in held:
            os.close(fd)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_build_waiting_for_the_slot_says_so_and_goes_on_once_it_is_free(tmp_path: Path, go_bin: str) -> None:
    """While another slimgo holds the slot, the build says what it waits for (instead of sitting silent), and
    builds as soon as the slot is let go."""
    src = tmp_path / "src"
    _program(src, "one")
    cache = tmp_path / "cache"
    args = ("build", "./one", "--oci-layout", tmp_path / "out", "--sbom", "none", "--no-provenance")
    assert slimgo(*args, cwd=src, env={"SLIMGO_CACHE": str(cache)}).code == 0  # the slot exists now
    shutil.rmtree(tmp_path / "out")
    held = [os.open(lock, os.O_RDWR) for lock in (cache / "link").glob(f"*/{LOCK_NAME}")]
    assert held
    for fd in held:
        fcntl.flock(fd, fcntl.LOCK_EX)
    proc = subprocess.Popen([sys.executable, "-m", "slimgo", *map(str, args)], cwd=src,
                            env={**os.environ, "SLIMGO_CACHE": str(cache)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        for line in proc.stderr:  # plain lines on a pipe, one per step
            seen.append(line)
            if line.startswith("waiting for another slimgo build of example.com/"):
                break
    finally:
        for fd in held:
            os.close(fd)  # the other build is done: this one goes on
    out, rest = proc.communicate(timeout=120)
    assert proc.returncode == 0, "".join(seen) + rest
    assert any(line.startswith("waiting for another slimgo build") for line in seen)
    assert (tmp_path / "out" / "index.json").is_file()


def test_go_works_in_a_directory_of_its_own_not_one_planted_beside_the_slot(tmp_path: Path, go_bin: str) -> None:
    """The combined build (gobuild/batch.py) gives Go a work directory (GOTMPDIR) on the slot's file system.
    A link planted where that directory goes must not send Go's work, binaries included, elsewhere."""
    from slimgo.gobuild.batch import Batches, Program
    from slimgo.gobuild.build import GoProcesses

    src = tmp_path / "src"
    _program(src, "one")
    _main_beside(src, "two")
    toolchain = find_toolchain(go_bin)
    targets = [resolve(str(src / name), toolchain) for name in ("one", "two")]
    platform = Platform("linux", toolchain.goarch)
    keep = LinkOutputs(tmp_path / "link")
    slot = keep.module_slot(src.resolve(), GoFlags(), platform)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    slot.parent.mkdir(parents=True)
    for planted in (slot.parent / f"{slot.name}.gotmp", slot / ".gotmp"):
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.symlink_to(elsewhere)
    seen: list[str] = []

    def progress(msg: str) -> None:
        seen.extend(p.name for p in elsewhere.iterdir())

    batches = Batches([Program(t.package, src.resolve()) for t in targets], tmp_path / "together", GoProcesses(),
                      progress)
    try:
        built = [batches.binary(toolchain, t, GoFlags(), platform, tmp_path / "bin", keep) for t in targets]
    finally:
        batches.close()
    assert all(b is not None and b.path.read_bytes().startswith(b"\x7fELF") for b in built)
    assert seen == [] and list(elsewhere.iterdir()) == []


def test_a_fifo_planted_in_the_slot_does_not_hang_the_build(tmp_path: Path, go_bin: str) -> None:
    """Reading a FIFO with no writer blocks for ever: a FIFO at the program's name in the slot is removed
    unopened, and the build goes on."""
    import threading

    toolchain, target, keep, platform, slot = _slot_of(tmp_path, go_bin, "hi")
    slot.mkdir(parents=True)
    os.mkfifo(slot / "hi")
    built: list[object] = []
    worker = threading.Thread(target=lambda: built.append(
        compile_binary(toolchain, target, GoFlags(), platform, tmp_path / "out", keep=keep)), daemon=True)
    worker.start()
    worker.join(timeout=120)
    if worker.is_alive():  # let the blocked read end, so the thread does too
        with contextlib.suppress(OSError):
            os.close(os.open(slot / "hi", os.O_WRONLY | os.O_NONBLOCK))
    assert not worker.is_alive() and len(built) == 1
    assert (tmp_path / "out" / str(platform).replace("/", "_") / "hi").read_bytes().startswith(b"\x7fELF")


def test_a_binary_cut_short_in_the_slot_is_linked_again(tmp_path: Path, go_bin: str) -> None:
    """Into a setgid slot Go copies its output instead of renaming it; an interrupt (Go is killed) can cut
    that copy short. Its build ID, near the start, is intact, so Go would call it up to date: the next build
    must link again, not publish the cut file."""
    toolchain, target, keep, platform, slot = _slot_of(tmp_path, go_bin, "hi")
    whole = compile_binary(toolchain, target, GoFlags(), platform, tmp_path / "first", keep=keep).path.read_bytes()
    kept = keep.slot(target, GoFlags(), platform) / "hi"
    cut = whole[:len(whole) // 2]
    kept.unlink()  # the first build's work directory shares its inode
    kept.write_bytes(cut)

    again = compile_binary(toolchain, target, GoFlags(), platform, tmp_path / "again", keep=keep)
    assert again.path.read_bytes() == whole


def test_a_build_trims_slots_unused_for_days(tmp_path: Path, go_bin: str) -> None:
    """After a successful build, slots nobody used for five days go (at most once a day); the build's own
    slot stays, so the next unchanged build still finds its output."""
    from slimgo.gobuild.outputs import TRIM_MARKER, TRIM_UNUSED_FOR
    from slimgo.gobuild.slotfile import RECIPES

    src = tmp_path / "src"
    _program(src, "one")
    cache = tmp_path / "cache"
    stale = cache / "link" / ("0" * 32)
    stale.mkdir(parents=True)
    (stale / "old").write_bytes(b"\x7fELF")
    (stale / LOCK_NAME).touch()
    gone = time.time() - TRIM_UNUSED_FOR - 3600
    os.utime(stale / LOCK_NAME, (gone, gone))
    args = ("build", "./one", "--oci-layout", tmp_path / "out", "--sbom", "none", "--no-provenance")
    assert slimgo(*args, cwd=src, env={"SLIMGO_CACHE": str(cache)}).code == 0
    assert not stale.exists() and (cache / "link" / TRIM_MARKER).is_file()
    kept = [p for p in (cache / "link").iterdir() if p.name not in (TRIM_MARKER, RECIPES)]
    assert len(kept) == 1 and (kept[0] / "one").is_file()
    recipes = [p for p in (cache / "link" / RECIPES).iterdir() if not p.name.startswith(LISTING_PREFIX)]
    assert len(recipes) == 1  # the build's own recipe (gobuild/rerun.py); list-*: go list's answer (listing.py)
