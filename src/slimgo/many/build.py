"""build_many: every main package of a set of targets, each through `pipeline.build`, in a bounded pool.

One Session is shared (one resolution per remote base, one registry pool, so shared blobs are uploaded once
and mounted elsewhere). A program that fails is reported and the others still complete. Names, outputs and
the registry are checked before any compiler runs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import BadInput, SlimgoError
from ..fsutil import check_writable, write_bytes
from ..gobuild.packages import MainPackage, find_mains
from ..pipeline import BuildRequest, BuildResult, Session, build
from .naming import Naming, repositories

SCHEMA_VERSION = 1
# Measured on 2 cores, 20 services x 2 platforms (benchmarks/monorepo_bench.py): a warm rebuild took 23 s with
# two workers and 39 s with one, at the same CPU (12 s); a cold build cost 64 s CPU with two workers and 39 s with
# one, because two cold `go build`s compile the shared dependencies twice (the build cache does not coordinate
# them). Rebuilds are the common case: two workers, or one per two cores on bigger machines.
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

    @property
    def failed(self) -> list[ProgramResult]:
        return [p for p in self.programs if p.error is not None]

    @property
    def image_refs(self) -> dict[str, str]:
        """import path → NAME@DIGEST, for the programs that were published."""
        return {p.package: p.image_ref for p in self.programs if p.image_ref}

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "images": [p.to_json() for p in self.programs],
                "built": len(self.programs) - len(self.failed), "failed": len(self.failed), "jobs": self.jobs,
                "push": self.push_stats, "timings_seconds": {"total": round(self.seconds, 3)}}


def _prefix(req: ManyRequest) -> str:
    t = req.template
    if t.oci_layout is not None or t.tarball is not None or t.load or t.image_tags:
        raise BadInput("several programs publish with --push only (--oci-layout, --tarball, --load and --tag "
                       "name one image)")
    prefix = t.push or req.env.get("SLIMGO_REPO", "")
    if not prefix:  # like ko: $SLIMGO_REPO alone is enough, there is nowhere else for many images to go
        raise BadInput("several programs need --push PREFIX or SLIMGO_REPO set to a repository prefix")
    return prefix


def plan_many(req: ManyRequest, session: Session) -> tuple[list[MainPackage], dict[str, str]]:
    """The programs and their repositories; every naming clash and unwritable output is found here."""
    if req.jobs < 1:
        raise BadInput("--jobs must be at least 1")
    prefix = _prefix(req)
    if req.template.image_refs is not None:
        check_writable(req.template.image_refs)
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

    def one(pkg: MainPackage) -> ProgramResult:
        sub = replace(req.template, target=pkg.spec, push=repos[pkg.import_path], image_refs=None)
        try:
            result = build(sub, lambda m: say(f"{pkg.import_path}: {m}"), session)
        except SlimgoError as exc:  # this program failed; the others go on
            say(f"{pkg.import_path}: failed: {exc.message}")
            return ProgramResult(pkg.import_path, repos[pkg.import_path], error=exc)
        return ProgramResult(pkg.import_path, repos[pkg.import_path], result)

    say(f"building {len(mains)} programs, {min(req.jobs, len(mains))} at a time")
    pool = ThreadPoolExecutor(max_workers=req.jobs)
    try:
        programs = tuple(pool.map(one, mains))
    except KeyboardInterrupt:  # programs not started are dropped; running ones remove their own work dirs
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    stats = session.pushes.stats.to_json() if session.pushes.used else None
    result = ManyResult(programs, stats, req.jobs, time.perf_counter() - started)
    if req.template.image_refs is not None:
        write_bytes(req.template.image_refs, "".join(f"{r}\n" for r in result.image_refs.values()).encode())
    return result
