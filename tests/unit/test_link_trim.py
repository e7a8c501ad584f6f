"""Link-output slots unused for five days are removed, at most once a day, as Go trims its build cache; a
slot in use (its lock held) is never removed, and a build whose slot was removed under it links in its work
directory instead of sharing a lock nobody else sees."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from slimgo.gobuild.outputs import LOCK_NAME, TRIM_EVERY, TRIM_MARKER, TRIM_UNUSED_FOR, LinkOutputs

DAY = 24 * 3600


def _slot(root: Path, name: str, used: float) -> Path:
    slot = root / name
    slot.mkdir(parents=True)
    (slot / "app").write_bytes(b"\x7fELF" + b"\0" * 60)
    (slot / LOCK_NAME).touch()
    os.utime(slot / LOCK_NAME, (used, used))
    return slot


def test_slots_unused_for_five_days_go_and_the_others_stay(tmp_path: Path) -> None:
    now = time.time()
    keep = LinkOutputs(tmp_path / "link")
    old = _slot(keep.root, "a" * 32, now - TRIM_UNUSED_FOR - DAY)
    recent = _slot(keep.root, "b" * 32, now - TRIM_UNUSED_FOR + DAY)
    busy = _slot(keep.root, "c" * 32, now - 30 * DAY)
    stranger = tmp_path / "elsewhere"
    stranger.mkdir()
    (keep.root / ("d" * 32)).symlink_to(stranger)  # not a slot slimgo made
    fd = os.open(busy / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another build is using it
        assert keep.trim(now) == [old]
    finally:
        os.close(fd)
    assert not old.exists() and (recent / "app").exists() and (busy / "app").exists() and stranger.is_dir()


def test_trim_runs_at_most_once_a_day(tmp_path: Path) -> None:
    now = time.time()
    keep = LinkOutputs(tmp_path / "link")
    assert keep.trim(now) == []  # the first look: nothing to remove yet, and the time is noted
    assert (keep.root / TRIM_MARKER).is_file()
    late = _slot(keep.root, "a" * 32, now - 30 * DAY)
    assert keep.trim(now + TRIM_EVERY - 60) == []  # within the day: not looked at
    assert keep.trim(now + TRIM_EVERY + 60) == [late]


def test_using_a_slot_marks_it_used(tmp_path: Path) -> None:
    keep = LinkOutputs(tmp_path / "link")
    slot = _slot(keep.root, "a" * 32, time.time() - 30 * DAY)
    with keep.locked(slot) as got:
        assert got == slot
    assert time.time() - (slot / LOCK_NAME).stat().st_mtime < 60
    assert keep.trim() == []


def test_a_slot_removed_while_a_build_waited_for_it_is_not_used(tmp_path: Path) -> None:
    """The build opened the lock file, the slot went before it got the lock: it gets None (links in its
    work directory), not a lock on a file nobody else can find."""
    keep = LinkOutputs(tmp_path / "link")
    slot = _slot(keep.root, "a" * 32, time.time())
    fd = os.open(slot / LOCK_NAME, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    seen: list[object] = []

    def waiting() -> None:  # the build is now waiting with its lock file open: the slot goes
        for p in slot.iterdir():
            p.unlink()
        slot.rmdir()
        os.close(fd)

    with keep.locked(slot, waiting=waiting) as got:
        seen.append(got)
    assert seen == [None]
