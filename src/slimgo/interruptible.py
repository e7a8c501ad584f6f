"""Waiting on worker threads without losing Ctrl-C.

The kernel may hand a process-directed SIGINT or SIGTERM to any thread. When it lands on a worker (one
blocked reading Go's output, say), CPython only sets a flag, which the main thread acts on when it next runs
Python code; a main thread blocked in a lock wait without a timeout runs none until the worker's whole job
has ended (seen: a Ctrl-C answered after the 15 s compile it was meant to stop). Waiting in short slices
bounds that delay to one slice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")
SLICE_SECONDS = 0.1


def result(future: Future[T]) -> T:
    while True:
        try:
            return future.result(timeout=SLICE_SECONDS)
        except TimeoutError:
            if future.done():  # the job's own TimeoutError, not the slice's
                raise


def results(futures: Iterable[Future[T]]) -> list[T]:
    """In order; the first failure is raised once the futures before it have ended."""
    return [result(f) for f in futures]


def wait(event: threading.Event) -> None:
    while not event.wait(SLICE_SECONDS):
        pass
