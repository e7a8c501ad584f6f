"""One registry client per host, sharing credentials, `--insecure-registry` hosts and one stats counter.

A build keeps two pools: one for base pulls and one for pushes, so retries pulling a base are never
reported as push retries.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry client pulls in requests (~80 ms): imported only when a registry is used
    from .registry.auth import CredentialSource
    from .registry.client import PushStats, Registry


class RegistryPool:
    def __init__(self, credentials: CredentialSource | None = None, insecure: tuple[str, ...] = ()) -> None:
        self._credentials = credentials
        self._insecure = insecure
        self._clients: dict[str, Registry] = {}
        self._stats: PushStats | None = None
        self._lock = threading.Lock()  # the workers of a many-program build share one pool

    @property
    def stats(self) -> PushStats:
        with self._lock:
            return self._stats_locked()

    def _stats_locked(self) -> PushStats:
        if self._stats is None:
            from .registry.client import PushStats

            self._stats = PushStats()
        return self._stats

    @property
    def used(self) -> bool:
        return bool(self._clients)

    def __call__(self, host: str) -> Registry:
        with self._lock:
            return self._client_locked(host)

    def _client_locked(self, host: str) -> Registry:
        if host not in self._clients:
            from .registry.auth import CredentialSource
            from .registry.client import Registry

            self._clients[host] = Registry(host, insecure=host in self._insecure,
                                           credentials=self._credentials or CredentialSource(), stats=self._stats_locked())
        return self._clients[host]
