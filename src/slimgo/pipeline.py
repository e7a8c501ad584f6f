"""`slimgo build` as a library call: the stages of `stages/` in order, each one measured.

plan → bases → sinks checked → compile → inspect → assemble → publish. Everything that can fail fast
(bad input, a platform the base lacks, a registry that refuses) fails before `go build` runs.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import interruptible
from .errors import SlimgoError
from .fsutil import user_cache_dir
from .gobuild.batch import Batches
from .gobuild.build import BuiltBinary, GoProcesses
from .gobuild.toolchain import EarlyAnswers, Toolchain, find_toolchain
from .gobuild.warmup import WarmupGate
from .registries import RegistryPool
from .stages.compile import Compiled, compile_all
from .stages.plan import BuildPlan, BuildRequest, plan

if TYPE_CHECKING:  # the image side: imported while Go compiles (_compile_while_checking), not before it starts
    from .oci.cache import LayerCache
    from .oci.model import Image, Index, Layer
    from .sinks.content import Published
    from .sinks.sink import MultiSink
    from .stages.assemble import PlatformImage
    from .stages.bases import BaseChoice
    from .stages.publish import Publication
    from .supplychain.attach import Attachment
    from .supplychain.sign import Signing
    from .upx.stage import UpxStage

__all__ = ["BuildRequest", "BuildResult", "Session", "build"]

SCHEMA_VERSION = 1

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class BuildResult:
    plan: BuildPlan
    platforms: tuple[PlatformImage, ...]
    publication: Publication
    reference_binary_bytes: int | None
    timings: dict[str, float]
    notes: list[str]
    debug: dict[str, Any] | None = None  # --debug: how to run the image and attach a debugger
    upx: dict[str, Any] | None = None  # UpxStage.to_json(): verification and measured cost

    @property
    def primary(self) -> PlatformImage:
        return self.platforms[0]

    @property
    def base_name(self) -> str:
        return self.primary.base.name

    @property
    def outputs(self) -> dict[str, str]:
        """What was written where (JSON `outputs`): oci_layout, tarball, pushed, loaded, image_refs."""
        return self.publication.outputs

    def unique_layers(self) -> list[Layer]:
        seen: dict[str, Layer] = {}
        for p in self.platforms:
            for layer in p.image.layers:
                seen.setdefault(layer.digest, layer)
        return list(seen.values())

    @property
    def compressed_bytes(self) -> int:
        configs = sum(len(p.image.config_bytes) for p in self.platforms)
        return sum(layer.size for layer in self.unique_layers()) + configs

    @property
    def uncompressed_bytes(self) -> int:
        return sum(layer.uncompressed_size for layer in self.unique_layers())

    @property
    def reduction_pct(self) -> float | None:
        ref = self.reference_binary_bytes
        if not ref:
            return None
        return round(100.0 * (ref - self.primary.binary.size) / ref, 1)

    def to_json(self) -> dict[str, Any]:
        plan, pub = self.plan, self.publication
        return {
            "schema_version": SCHEMA_VERSION,
            "target": plan.target.spec,
            "package": plan.target.package,
            "go_version": plan.toolchain.version,
            "image_digest": pub.published.digest,
            "compressed_bytes": self.compressed_bytes,
            "uncompressed_bytes": self.uncompressed_bytes,
            "binary_bytes": self.primary.binary.size,
            "reference_binary_bytes": self.reference_binary_bytes,
            "binary_reduction_pct": self.reduction_pct,
            "base": self.base_name,
            "go_build": plan.flags.command_line(),
            "layers": [_layer_json(layer) for layer in self.unique_layers()],
            "platforms": [_platform_json(p) for p in self.platforms],
            "tags": [str(t) for t in pub.published.tags],
            "image_refs": pub.image_refs,
            "outputs": pub.outputs,
            "push": pub.push_stats,
            "upx": self.upx,
            "attachments": [{"artifact_type": a.artifact_type, "digest": a.digest, "subject": a.subject.digest}
                            for a in pub.published.attachments],
            "signatures": [{"kind": m.kind, "tag": m.tag, "subject": m.subject, "layers": len(m.layers)}
                           for m in pub.published.local_signatures()],
            "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "notes": self.notes,
            "debug": self.debug,
        }


def _layer_json(layer: Layer) -> dict[str, Any]:
    return {"digest": layer.digest, "diff_id": layer.diff_id, "media_type": layer.descriptor.media_type,
            "compressed_bytes": layer.size, "uncompressed_bytes": layer.uncompressed_size,
            "comment": layer.comment}


def _platform_json(p: PlatformImage) -> dict[str, Any]:
    return {"platform": str(p.platform), "digest": p.image.digest, "binary_bytes": p.binary.size,
            "compressed_bytes": p.image.compressed_size, "uncompressed_bytes": p.image.uncompressed_size,
            "layers": [_layer_json(layer) for layer in p.image.layers]}


class Session:
    """What builds of many programs share: one pull pool, one push pool (so a blob pushed for one program is
    mounted, not uploaded, for the next), one layer cache, one resolution per remote base, and the warm-up
    gate that keeps two cold `go build`s for one platform from compiling the same dependencies."""

    def __init__(self, req: BuildRequest) -> None:
        self.pulls = RegistryPool(req.credentials, tuple(req.insecure_registries))
        self.pushes = RegistryPool(req.credentials, tuple(req.insecure_registries))
        self._bases: dict[tuple[str, tuple[str, ...]], BaseChoice] = {}
        self._base_errors: dict[tuple[str, tuple[str, ...]], SlimgoError] = {}  # the same for every program
        # Images kept for outputs the session writes at the end (`build ./...` --oci-layout/--tarball/--load),
        # with the work directories that hold their blobs until then.
        self.collected: dict[str, Published] = {}
        self.kept: list[Path] = []
        self._toolchain: Toolchain | None = None
        self.warmup = WarmupGate()
        self.batches: Batches | None = None  # set by `build ./...`: its programs compile together
        self._lock = threading.Lock()
        self._processes: list[GoProcesses] = []
        self._stopped = False

    def processes(self) -> GoProcesses:
        """One program's Go processes, registered here so that `stop` reaches every program's."""
        procs = GoProcesses()
        with self._lock:
            self._processes.append(procs)
            if self._stopped:
                procs.stop()
        return procs

    def stop(self) -> None:
        """Kill every program's Go processes, and those started later: an interrupt reaches only the main
        thread (SIGTERM not even the children), and the workers would otherwise finish every build first."""
        with self._lock:
            self._stopped = True
            for procs in self._processes:
                procs.stop()

    @functools.cached_property
    def cache(self) -> LayerCache:
        from .oci.cache import LayerCache

        return LayerCache(user_cache_dir())

    def toolchain(self, go: str | None, early: EarlyAnswers | None = None) -> Toolchain:
        """Found once (`go env` costs a process start per program otherwise)."""
        with self._lock:
            if self._toolchain is None:
                self._toolchain = find_toolchain(go, early)
            return self._toolchain

    def keep(self, target: str, published: Published, work: Path) -> None:
        """An image whose local outputs the caller writes with the others', and the blobs it needs till then."""
        with self._lock:
            self.collected[target] = published
            self.kept.append(work)

    def bases(self, p: BuildPlan, progress: Progress) -> BaseChoice:
        key = (p.base_name, tuple(str(x) for x in p.platforms))
        with self._lock:  # held while resolving: the other workers wait for the one resolution
            if key in self._base_errors:  # a registry down or a base refused: fail at once, not retry again
                raise copy.copy(self._base_errors[key])
            if key not in self._bases:
                try:
                    self._bases[key] = choose_bases(p, self.pulls, self.cache, progress)
                except SlimgoError as exc:
                    self._base_errors[key] = exc
                    raise
            return self._bases[key]


def choose_bases(p: BuildPlan, pulls: RegistryPool, cache: LayerCache, progress: Progress) -> BaseChoice:
    """stages.bases.choose_bases, imported when first asked: it brings the image side (see TYPE_CHECKING)."""
    from .stages.bases import choose_bases as choose

    return choose(p, pulls, cache, progress)


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - t0


def build(req: BuildRequest, progress: Progress = _quiet, session: Session | None = None) -> BuildResult:
    """One program. `session` is shared by the builds of one `build ./...` or `resolve`; None makes a fresh one."""
    clock = _Clock()
    started = time.perf_counter()
    gate = session.warmup if session is not None else None  # one program alone builds its platforms in turn
    batches = session.batches if session is not None else None
    session = session or Session(req)
    with clock("resolve"):
        progress(f"resolving {req.target}")
        p = plan(req, os.environ, session.toolchain(req.go, req.early))
    late_notes: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="slimgo-build-"))
    committed = False
    try:
        bases, sinks, compiled = _compile_while_checking(p, session, work, progress, clock, gate, batches)
        from .stages.assemble import assemble_build
        from .stages.attest import attest
        from .stages.publish import publish

        with clock("assemble"):
            cache = session.cache if p.cache else None  # the layer cache's import waits until Go has started
            assembled = assemble_build(p, compiled.binaries, bases.remote, work, cache, progress)
            attachments = attest(p, assembled.images, assembled.facts)
            signed = _signing(p, assembled.artifact, attachments)
        upx = _upx_stage(p)
        if upx is not None:
            upx.check_unchanged()  # the layers hold the bytes that were verified
        with clock("write"):
            publication = publish(assembled.artifact, p.tags, sinks, p.outputs, progress, attachments, signed)
            debug = _debug_client(p, assembled.images[0].binary)
        committed = True
        _trim_link_outputs(p)
        # build ./... writes the local outputs (layout, tarball, engine) once, after every program has built
        progress("image ready; the local outputs are written when every program has built" if req.collect
                 else "every output is in place")
        if req.collect:
            session.keep(req.target, publication.published, work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    except KeyboardInterrupt:
        # Once every output has been renamed into place the build has succeeded; an interrupt while
        # cleaning up must not turn it into a failure.
        if not committed:
            raise
        late_notes.append("interrupted after every output was in place: the build succeeded")
    finally:
        if not (committed and req.collect):
            shutil.rmtree(work, ignore_errors=True)
    timings = {"resolve": clock.seconds["resolve"], "checks": clock.seconds["checks"],
               "checks_beside_go_build": clock.seconds["checks_beside_go_build"], **compiled.seconds,
               "assemble": clock.seconds["assemble"], **publication.seconds, "write": clock.seconds["write"],
               "total": time.perf_counter() - (req.early.launched if req.early and req.early.launched else started)}
    return BuildResult(p, assembled.images, publication, compiled.reference_bytes, timings,
                       [*p.notes, *bases.notes, *compiled.notes, *assembled.notes, *late_notes], debug,
                       upx.to_json() if upx is not None else None)


def _compile_while_checking(p: BuildPlan, session: Session, work: Path, progress: Progress,
                            clock: _Clock, gate: WarmupGate | None = None,
                            batches: Batches | None = None) -> tuple[BaseChoice, MultiSink, Compiled]:
    """Go compiles on a worker thread while this one resolves a remote base and asks the registries it pushes
    to: round trips that cost as much as a warm compile. The local outputs (paths, the engine) are checked
    first, in a millisecond. A failed check stops Go at once, so it still fails in a second, as if checked
    first; when both fail, the check's error is the one reported. Only `--platform all` on a remote base
    waits for the base, which decides what to compile."""
    from .stages.publish import check_outputs, sinks_for

    with clock("checks"):
        sinks = sinks_for(p.outputs, p.toolchain.goarch, session.pushes,
                          written=user_cache_dir() / "written" if p.cache else None)
        check_outputs(p.outputs, sinks, registries=False)
    procs = session.processes()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="slimgo-compile") as pool:
        compiling = None
        try:  # from the submit on: a Ctrl-C landing in between must still stop the Go it started
            if p.platforms:
                compiling = pool.submit(compile_all, p, p.platforms, work, progress, procs, gate, batches)
            with clock("checks_beside_go_build"):
                bases = session.bases(p, progress)
                check_outputs(p.outputs, sinks, registries=True)
            if compiling is None:
                compiling = pool.submit(compile_all, p, bases.platforms, work, progress, procs, gate,
                                        batches)
            _import_image_side()
            return bases, sinks, interruptible.result(compiling)
        except BaseException:
            procs.stop()  # the worker's go process dies now; leaving the pool waits only for that
            raise


def _trim_link_outputs(p: BuildPlan) -> None:
    """Once a day at most, after a build has succeeded: slots unused for days go (gobuild/outputs.py)."""
    from .gobuild.backend import LocalCompiler

    if isinstance(p.compiler, LocalCompiler) and p.compiler.outputs is not None:
        p.compiler.outputs.trim()


def _signing(p: BuildPlan, artifact: Image | Index, attachments: tuple[Attachment, ...]) -> Signing | None:
    """--sign-key's signatures; the signing code is imported only by the builds that sign."""
    if p.signer is None:
        return None
    from .stages.sign import signing

    return signing(p.signer, artifact, attachments, p.tags[0].name)


def _import_image_side() -> None:
    """What runs after the compile, imported while Go still works (~0.1 s of Python off the critical path)."""
    from .stages import assemble, attest  # noqa: F401


def _debug_client(p: BuildPlan, binary: BuiltBinary) -> dict[str, Any] | None:
    """The debugger's client configuration, written to --debug-config DIR (an output like the image)."""
    if p.debug is None:
        return None
    client = p.debug.client(p.target, binary)
    written = client.write(p.outputs.debug_config) if p.outputs.debug_config is not None else []
    return p.debug.to_json(client, written, str(p.tags[0]))



def _upx_stage(p: BuildPlan) -> UpxStage | None:
    if not p.post_compile:
        return None
    from .upx.stage import UpxStage

    return next((t for t in p.post_compile if isinstance(t, UpxStage)), None)
