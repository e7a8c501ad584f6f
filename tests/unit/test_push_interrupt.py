"""Ctrl-C during a push is answered at once, not when the uploads in flight end."""

from __future__ import annotations

import _thread
import threading
import time

import pytest

from slimgo.sinks.registry import run_parallel


def test_an_interrupt_does_not_wait_for_an_upload_in_flight() -> None:
    started, release = threading.Event(), threading.Event()

    def stuck_upload() -> None:  # a PUT on a slow link: blocks until the test lets it go
        started.set()
        release.wait(60)

    def press_ctrl_c() -> None:
        started.wait(10)
        _thread.interrupt_main()  # what the SIGINT/SIGTERM handler does to the main thread

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_parallel([stuck_upload, stuck_upload], workers=2)
        assert time.monotonic() - t0 < 30  # an executor would have waited the full 60 s
        assert not release.is_set()  # the uploads were still in flight when the caller got the interrupt
    finally:
        release.set()


def test_every_call_runs_and_the_first_failure_is_raised() -> None:
    done: list[int] = []
    lock = threading.Lock()

    def ok(i: int) -> None:
        with lock:
            done.append(i)

    run_parallel([lambda i=i: ok(i) for i in range(9)], workers=4)
    assert sorted(done) == list(range(9))
    run_parallel([], workers=4)  # nothing to push: returns

    def broken() -> None:
        raise OSError("registry went away")

    with pytest.raises(OSError, match="registry went away"):
        run_parallel([broken], workers=4)
