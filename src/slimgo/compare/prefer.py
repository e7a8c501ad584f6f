"""Which passing variant the verdict picks, by what the user prefers.

- `pull`: the smallest pull.
- `startup` / `memory`: the fastest start-up / the smallest peak RSS (ties: the smaller pull).
- `balanced` (default): the smallest pull among the variants whose start-up and peak RSS stay within
  BOUND of the unpacked reference binary (`ldflags-sw`, slimgo's default build). UPX wins on pull size and
  loses on start-up and memory; this is where that trade is weighed, with the numbers.

A variant without a measurement for a metric is not excluded on it (nothing measured, nothing claimed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PREFERENCES = ("balanced", "pull", "startup", "memory")
REFERENCE = "ldflags-sw"
STARTUP_SLACK = (0.10, 5.0)  # at most 10% + 5 ms slower than the reference
RSS_SLACK = (0.10, 2 * 1024 * 1024)  # at most 10% + 2 MiB more peak RSS
BOUND = ("start-up within 10% + 5 ms and peak RSS within 10% + 2 MiB of the unpacked ldflags-sw binary; for a "
         "packed binary, the CPU time and private memory it adds (measured pairwise) within the same slack")


@dataclass(frozen=True)
class Metrics:
    name: str
    pull: int
    startup_ms: float | None
    rss: int | None
    added_cpu_ms: float | None = None  # a packed binary: decompression CPU time, paired against the unpacked one
    added_private: int | None = None  # ... and the private memory it adds per process


def _over(value: float | None, ref: float | None, slack: tuple[float, float]) -> bool:
    return value is not None and ref is not None and value > ref * (1 + slack[0]) + slack[1]


def choose(passing: Sequence[Metrics], prefer: str, reference: Metrics | None) -> tuple[str | None, dict[str, str]]:
    """The chosen variant's name, and (balanced) the variants the bound excluded, with the numbers."""
    if not passing:
        return None, {}
    inf = float("inf")
    if prefer == "pull":
        return min(passing, key=lambda v: (v.pull, v.name)).name, {}
    if prefer == "startup":
        return min(passing, key=lambda v: (v.startup_ms if v.startup_ms is not None else inf, v.pull, v.name)).name, {}
    if prefer == "memory":
        return min(passing, key=lambda v: (v.rss if v.rss is not None else inf, v.pull, v.name)).name, {}
    excluded: dict[str, str] = {}
    within = []
    for v in passing:
        why = []
        if reference is not None and _over(v.startup_ms, reference.startup_ms, STARTUP_SLACK):
            why.append(f"start-up {v.startup_ms:.1f} ms vs {reference.startup_ms:.1f} ms")
        if reference is not None and _over(v.rss, reference.rss, RSS_SLACK):
            why.append(f"peak RSS {v.rss} vs {reference.rss} bytes")
        # Wall times on a busy machine are mostly waiting and RSS counts shared file pages: the paired CPU time
        # and private memory are what a packer costs whatever the load.
        ref_ms = reference.startup_ms if reference is not None and reference.startup_ms else 0.0
        ref_rss = reference.rss if reference is not None and reference.rss else 0
        if _over(v.added_cpu_ms, 0.0, (0.0, ref_ms * STARTUP_SLACK[0] + STARTUP_SLACK[1])):
            why.append(f"+{v.added_cpu_ms:.1f} ms CPU to start")
        if _over(v.added_private, 0, (0.0, ref_rss * RSS_SLACK[0] + RSS_SLACK[1])):
            why.append(f"+{v.added_private} bytes of private memory per process")
        if why:
            excluded[v.name] = "; ".join(why) + f" (against {REFERENCE}, measured)"
        else:
            within.append(v)
    return min(within or passing, key=lambda v: (v.pull, v.name)).name, excluded
