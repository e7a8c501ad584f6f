"""Which platform a worker compiles next, so that concurrent `go build`s never compile the same packages twice.

Two `go build` processes that miss the build cache at the same moment both compile every shared package
(the standard library, the module's dependencies): Go does not coordinate them. Measured on 2 cores, 40
`go build`s (20 programs x 2 platforms) from an empty cache: two at a time, for the same platform, cost
53 s of CPU; two at a time for different platforms cost 32 s, as much as one at a time (and 25 s of wall
time against 33 s).

So until one build for a platform has succeeded (its dependencies are then in the cache), only one build
for that platform runs; another program's build of it waits. Afterwards builds for that platform run
freely: they only compile their own packages. Builds with other flags (tags, gcflags, cgo) compile other
packages, so the key is the platform and the flags.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable


class WarmupGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._warm: set[Hashable] = set()
        self._busy: set[Hashable] = set()

    def take(self, key: Hashable) -> bool:
        """Wait until key may be built: it is warm, or cold and nobody builds it (then the caller does, and
        must call done). Returns whether the caller waited."""
        waited = False
        with self._cond:
            while key not in self._warm and key in self._busy:
                waited = True
                self._cond.wait()
            if key not in self._warm:
                self._busy.add(key)
            return waited

    def done(self, key: Hashable, ok: bool) -> None:
        """A build of key ended; a successful one leaves its packages in the cache for every later build."""
        with self._cond:
            if key in self._busy:
                self._busy.discard(key)
                if ok:
                    self._warm.add(key)
            self._cond.notify_all()
