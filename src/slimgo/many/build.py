"""build_many: every main package of a set of targets, each through `pipeline.build`, in a bounded pool.

One Session is shared (one resolution per remote base, one registry pool, so shared blobs are uploaded once
and mounted elsewhere). A program that fails is reported and the others still complete. Names, outputs and
the registry are checked before any compiler runs.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import interruptible
from ..errors import BadInput, SlimgoError
from ..fsutil import check_writable, write_bytes
from ..gobuild.batch import Batches, Program
from ..gobuild.packages import MainPackage, find_mains
from ..pipeline import BuildRequest, BuildResult, Session, build
from ..sinks.content import Published
from .naming import Naming, repositories

SCHEMA_VERSION = 1
LOCAL_PREFIX = "slimgo.local"  # names images written only locally when no PREFIX is given (ko uses ko.local)
# Measured on 2 cores, 20 services x 2 platforms, a program's platforms compiled at once (benchmarks/monorepo_bench.py
# --jobs-sweep 1,3,4 --rounds 2, a loaded machine): one worker was slowest (cold 51 s against 41 s with two; a
# rebuild 7.6-8.4 s against 6.2-6.4 s); three and four were within the noise of two on rebuilds, and cold runs
# of two against four, alternated, took 42.7/43.2 s against 39.1/42.0 s. The CPU time was the same for every size.
DEFAULT_JOBS = max(2, (os.cpu_count() or 2) // 2)

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class ManyRequest:
    targets: tuple[str, ...]
    template: BuildRequest  # the flags every program shares; its target, push and image_refs are ignored
    naming: Naming = Naming.HASHED
    jobs: int = DEFAULT_JOBS
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass(frozen=True)
class ProgramResult:
    package: str
    repository: str
    result: BuildResult | None = None
    error: SlimgoError | None = None

    @property
    def image_ref(self) -> str | None:
        return self.result.publication.image_refs[0] if self.result else None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"package": self.package, "repository": self.repository, "image_ref": self.image_ref}
        if self.result is not None:
            r = self.result
            doc.update({"image_digest": r.publication.published.digest, "compressed_bytes": r.compressed_bytes,
                        "binary_bytes": r.primary.binary.size, "base": r.base_name,
                        "platforms": [str(p.platform) for p in r.platforms],
                        "timings_seconds": {k: round(v, 3) for k, v in r.timings.items()}, "notes": r.notes})
        if self.error is not None:
            doc["error"] = {"code": self.error.exit_code, "message": self.error.message}
        return doc


@dataclass(frozen=True)
class ManyResult:
    programs: tuple[ProgramResult, ...]
    push_stats: dict[str, Any] | None
    jobs: int
    seconds: float
    outputs: dict[str, str] = field(default_factory=dict)  # oci_layout, tarball, loaded: written for all images

    @property
    def failed(self) -> list[ProgramResult]:
        return [p for p in self.programs if p.error is not None]

    @property
    def summary(self) -> str:
        """The line `build ./...` and `resolve` end with."""
        return f"{len(self.programs) - len(self.failed)} built, {len(self.failed)} failed in {self.seconds:.1f} s"

    @property
    def exit_code(self) -> int:
        """0 when all built; 3 when every failure was a remote one (a registry down), as for one image; else 1."""
        if not self.failed:
            return 0
        return 3 if all(p.error is not None and p.error.exit_code == 3 for p in self.failed) else 1

    @property
    def image_refs(self) -> dict[str, str]:
        """import path → NAME@DIGEST, for the programs that were published."""
        return {p.package: p.image_ref for p in self.programs if p.image_ref}

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "images": [p.to_json() for p in self.programs],
                "built": len(self.programs) - len(self.failed), "failed": len(self.failed), "jobs": self.jobs,
                "push": self.push_stats, "outputs": self.outputs, "timings_seconds": {"total": round(self.seconds, 3)}}


def _local(t: BuildRequest) -> bool:
    return t.oci_layout is not None or t.tarball is not None or t.load


def _pushing(t: BuildRequest) -> bool:
    """--push, or no other output: like ko, $SLIMGO_REPO alone is enough to push."""
    return t.push is not None or not _local(t)


def _prefix(req: ManyRequest) -> str:
    t = req.template
    if t.image_tags:
        raise BadInput("--tag names one image; several programs are named by PREFIX and the naming flags")
    prefix = t.push or req.env.get("SLIMGO_REPO", "")
    if not prefix and _pushing(t):
        raise BadInput("several programs need --push PREFIX or SLIMGO_REPO set to a repository prefix")
    return prefix or LOCAL_PREFIX


def _check_local(t: BuildRequest) -> None:
    if t.oci_layout is not None:
        check_writable(t.oci_layout, directory=True)
    if t.tarball is not None:
        check_writable(t.tarball)
    if t.load:
        from ..sinks.daemon import ping

        ping()


def plan_many(req: ManyRequest, session: Session) -> tuple[list[MainPackage], dict[str, str]]:
    """The programs and their repositories; every naming clash and unwritable output is found here."""
    if req.jobs < 1:
        raise BadInput("--jobs must be at least 1")
    prefix = _prefix(req)
    if req.template.image_refs is not None:
        check_writable(req.template.image_refs)
    _check_local(req.template)
    mains = find_mains(req.targets, session.toolchain(req.template.go))
    if req.naming is Naming.BARE and len(mains) > 1:
        raise BadInput(f"--bare names one repository, but {len(mains)} programs were found")
    return mains, repositories(prefix, [m.import_path for m in mains], req.naming)


def build_many(req: ManyRequest, progress: Progress = _quiet) -> ManyResult:
    started = time.perf_counter()
    session = Session(req.template)
    mains, repos = plan_many(req, session)
    lock = threading.Lock()

    def say(msg: str) -> None:
        with lock:
            progress(msg)

    t = req.template
    collect = _local(t)

    def one(pkg: MainPackage) -> ProgramResult:
        repo = repos[pkg.import_path]
        sub = replace(t, target=pkg.spec, resolved=pkg.target, push=repo if _pushing(t) else None, image_refs=None,
                      image_tags=[repo], oci_layout=None, tarball=None, load=False, collect=collect)
        try:
            result = build(sub, lambda m: say(f"{pkg.import_path}: {m}"), session)
        except SlimgoError as exc:  # this program failed; the others go on
            say(f"{pkg.import_path}: failed: {exc.message}")
            return ProgramResult(pkg.import_path, repos[pkg.import_path], error=exc)
        return ProgramResult(pkg.import_path, repos[pkg.import_path], result)

    say(f"building {len(mains)} programs, {min(req.jobs, len(mains))} at a time" if len(mains) > 1
        else f"building {mains[0].import_path}")
    pool = ThreadPoolExecutor(max_workers=req.jobs)
    together: list[Path] = []  # the combined builds' directory, made inside the try so an interrupt removes it
    try:
        if t.builder is None:  # a BuildKit builder schedules its builds itself
            together.append(Path(tempfile.mkdtemp(prefix="slimgo-together-")))
            session.batches = Batches([Program(m.import_path, m.target.module_root.resolve()) for m in mains
                                       if m.target is not None and m.target.module_root is not None],
                                      together[0], session.processes(), say)
        try:
            programs = tuple(interruptible.results([pool.submit(one, m) for m in mains]))
        except KeyboardInterrupt:  # programs not started are dropped; running ones remove their own work dirs
            session.stop()  # their `go build`s die now, so this wait is short
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
        _refuse_shared_bad_input(programs)
        outputs = _write_local(t, [session.collected[m.spec] for m in mains if m.spec in session.collected],
                               session, say) if collect else {}
    finally:
        if session.batches is not None:
            session.batches.close()
        for kept in [*session.kept, *together]:
            shutil.rmtree(kept, ignore_errors=True)
    stats = session.pushes.stats.to_json() if session.pushes.used else None
    result = ManyResult(programs, stats, req.jobs, time.perf_counter() - started, outputs)
    if t.image_refs is not None:
        write_bytes(t.image_refs, "".join(f"{r}\n" for r in result.image_refs.values()).encode())
    return result


def _refuse_shared_bad_input(programs: tuple[ProgramResult, ...]) -> None:
    """Every program refused with the same bad input (`--platform linux/foo`, `--user a:b:c`, a --data folder
    that is missing): the options are wrong, not the programs. One error, exit 2, as for one image; each
    program finds it while planning, before Go is started."""
    errors = [p.error for p in programs if p.error is not None]
    if errors and len(errors) == len(programs) and all(e.exit_code == 2 for e in errors) and \
            len({e.message for e in errors}) == 1:
        raise copy.copy(errors[0])


def _write_local(t: BuildRequest, pubs: list[Published], session: Session, say: Progress) -> dict[str, str]:
    """Every image that was built, in one layout, one archive and one engine load (the failed ones are
    reported, as with --push; the others are still written)."""
    from ..sinks.many import load_many, write_many_archive, write_many_layout

    if not pubs:
        return {}
    host_arch = session.toolchain(t.go).goarch
    outputs: dict[str, str] = {}
    if t.load:  # remote first, as for one image: a refused load leaves no local output behind
        say(f"loading {len(pubs)} images into the Docker engine")
        outputs["loaded"] = "; ".join(load_many(pubs, host_arch))
    if t.oci_layout is not None:
        say(f"writing OCI layout {t.oci_layout}")
        outputs["oci_layout"] = str(write_many_layout(t.oci_layout, pubs))
    if t.tarball is not None:
        say(f"writing {t.tarball}")
        outputs["tarball"] = str(write_many_archive(t.tarball, pubs, host_arch))
    return outputs
