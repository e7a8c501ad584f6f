"""compile(plan) → binaries: one `go build` per platform, plus the plain build measured beside them.

The plan's compiler decides where `go build` runs (this machine, or a BuildKit builder); the plain
reference build runs there too.

The plain `go build` (no slimgo flags) is only a measurement for the reduction line: it runs in parallel
and its failure is a note, never the build's failure. The plan's post-compile transforms run last.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import SlimgoError
from ..gobuild.backend import Compilation, LocalCompiler
from ..gobuild.batch import Batches
from ..gobuild.build import BuiltBinary, GoProcesses
from ..gobuild.warmup import WarmupGate
from ..platform import Platform
from ..strategy import PLAIN
from .plan import BuildPlan

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Compiled:
    binaries: tuple[BuiltBinary, ...]
    reference_bytes: int | None  # the plain `go build` of the first platform
    notes: tuple[str, ...]
    seconds: dict[str, float]


def compile_all(plan: BuildPlan, platforms: tuple[Platform, ...], work: Path, progress: Progress,
                procs: GoProcesses | None = None, gate: WarmupGate | None = None,
                batches: Batches | None = None) -> Compiled:
    """`procs`: where the Go processes are registered, so the caller can stop them (see pipeline.build).
    `gate`: shared by the programs of one `build ./...`, so two of them never compile the same platform's
    dependencies at once on this machine (gobuild/warmup.py). `batches`: that session's combined builds, one
    `go build` per platform for all its programs (gobuild/batch.py); a program it did not build is built alone."""
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    notes: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        ref_future: Future[Compilation] | None = None
        if plan.reference_build:
            plain = PLAIN.flags.with_user(env={k: v for k, v in plan.flags.env if k != "CGO_ENABLED"})
            beside = plan.compiler.without_rerun() if isinstance(plan.compiler, LocalCompiler) else plan.compiler
            ref_future = pool.submit(beside.compile, plan.toolchain, plan.target, plain, platforms[:1],
                                     work / "reference", None, procs)
        if gate is not None and isinstance(plan.compiler, LocalCompiler):
            built = _compile_gated(plan, platforms, work, progress, procs, gate, seconds, batches)
        else:
            built = plan.compiler.compile(plan.toolchain, plan.target, plan.flags, platforms, work / "bin",
                                          progress, procs)
        binaries = list(built.binaries)
        notes += built.notes
        seconds["go_build"] = time.perf_counter() - t0
        head_start = max((b.head_start for b in binaries), default=0.0)
        if head_start:  # the entry point started this `go build` that long before this step (gobuild/rerun.py)
            seconds["go_build_head_start"] = head_start
        reference = None
        if ref_future is not None:
            progress("measuring plain `go build` for comparison")
            try:
                reference = ref_future.result().binaries[0].size
            except SlimgoError as exc:  # the reference is a measurement, not the job
                notes.append(f"plain go build reference failed: {exc}")
    if plan.reference_build:
        seconds["go_build_with_reference"] = time.perf_counter() - t0
    for transform in plan.post_compile:
        progress(f"{transform.name}: {len(binaries)} binaries")
        binaries = [transform(b) for b in binaries]
    return Compiled(tuple(binaries), reference, tuple(notes), seconds)


def _compile_gated(plan: BuildPlan, platforms: tuple[Platform, ...], work: Path, progress: Progress,
                   procs: GoProcesses | None, gate: WarmupGate, seconds: dict[str, float],
                   batches: Batches | None = None) -> Compilation:
    """Every platform at once, as ko does: builds for different platforms share no package, so from a cold
    cache the first program warms every platform in parallel, and the gate holds back the other programs'
    builds of a platform that is still warming (they would compile the same packages again)."""
    flags = plan.flags.command_line()
    waited: list[float] = []
    together = batches is not None and batches.covers(plan.target)

    def gated(platform: Platform) -> Compilation:
        if together:
            assert batches is not None
            progress(f"compiling {plan.target.package} for {platform} in its module's one go build")
            built = batches.binary(plan.toolchain, plan.target, plan.flags, platform, work / "bin",
                                   plan.compiler.outputs if isinstance(plan.compiler, LocalCompiler) else None,
                                   procs)
            if built is not None:
                return Compilation((built,))
        t0 = time.perf_counter()
        if gate.take((platform, flags)):
            waited.append(time.perf_counter() - t0)
        ok = False
        try:
            one = plan.compiler.compile(plan.toolchain, plan.target, plan.flags, (platform,), work / "bin", progress,
                                        procs)
            ok = True
            return one
        finally:
            gate.done((platform, flags), ok)

    with ThreadPoolExecutor(max_workers=len(platforms), thread_name_prefix="slimgo-go") as pool:
        futures = [pool.submit(gated, p) for p in platforms]
        parts = [f.result() for f in futures]  # the first platform's error, once every build ended
    if waited:
        seconds["go_build_wait"] = sum(waited)
    return Compilation(tuple(b for part in parts for b in part.binaries), tuple(n for part in parts for n in part.notes))
