"""The one shape every output has (like ko's publish.Interface), and a multi-sink that runs several.

A sink checks its destination before any work is done (a path that cannot be written, a registry that
refuses the credentials), then publishes. The multi-sink runs remote sinks first, so a failed push or
load leaves no local output behind either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .content import Published

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SinkResult:
    outputs: dict[str, str] = field(default_factory=dict)  # JSON `outputs` keys: oci_layout, tarball, pushed, loaded
    pushed: tuple[str, ...] = ()  # NAME@DIGEST per pushed reference
    stats: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # timings worth reporting on their own (push)


class Sink(Protocol):
    @property
    def remote(self) -> bool: ...

    @property
    def registry(self) -> bool: ...

    def describe(self) -> str: ...

    def check(self) -> None: ...

    def publish(self, pub: Published) -> SinkResult: ...


@dataclass(frozen=True)
class PublishResult:
    outputs: dict[str, str]
    pushed: tuple[str, ...]
    push_stats: dict[str, Any] | None
    seconds: dict[str, float]


class MultiSink:
    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = sorted(sinks, key=lambda s: not s.remote)  # stable: remote first, then as given

    def check(self) -> None:
        """Local destinations first (a path check costs nothing), then registries."""
        for sink in sorted(self.sinks, key=lambda s: s.remote):
            sink.check()

    def publish(self, pub: Published, progress: Progress) -> PublishResult:
        outputs: dict[str, str] = {}
        pushed: list[str] = []
        stats = None
        seconds: dict[str, float] = {}
        for sink in self.sinks:
            progress(sink.describe())
            r = sink.publish(pub)
            outputs.update(r.outputs)
            pushed += r.pushed
            stats = r.stats if r.stats is not None else stats
            seconds.update(r.seconds)
        return PublishResult(outputs, tuple(pushed), stats, seconds)
