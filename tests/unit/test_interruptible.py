"""Waiting on workers in slices, and stopping Go with the children it runs (unit tier: threads, `sh`)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from slimgo import interruptible
from slimgo.gobuild.build import kill_tree


def test_a_result_waited_in_slices_is_the_jobs_own_value_or_error() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(lambda: time.sleep(0.35) or "done")
        assert interruptible.result(slow) == "done"

        def times_out() -> None:
            raise TimeoutError("the job's own timeout")

        with pytest.raises(TimeoutError, match="the job's own timeout"):  # re-raised, not taken for a slice
            interruptible.result(pool.submit(times_out))


def test_an_event_waited_in_slices_returns_once_set() -> None:
    event = threading.Event()
    threading.Timer(0.25, event.set).start()
    interruptible.wait(event)
    assert event.is_set()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_kill_tree_stops_the_children_that_hold_the_pipe() -> None:
    """As `go build` runs compile: killing the parent alone would leave the child and the open pipe."""
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None and proc.stderr is not None
    child = int(proc.stdout.readline())
    kill_tree(proc)
    proc.wait(timeout=10)
    assert proc.stderr.read() == ""  # EOF at once: nothing else holds the pipe
    deadline = time.monotonic() + 10
    while _alive(child):  # SIGKILL is asynchronous: the kernel reaps the orphan a moment later
        assert time.monotonic() < deadline, "the child outlived kill_tree"
        time.sleep(0.02)
    proc.stdout.close()
    proc.stderr.close()
    assert os.getpgid(os.getpid()) != proc.pid  # the test runner's own group was not the one killed
