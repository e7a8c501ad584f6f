"""`slimgo compare`: build every rung, measure it, check it in a real engine, pick the verdict."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from .. import config as config_mod
from ..base import remote as base_remote
from ..binary.analysis import analyze_file
from ..binary.needs import Needs
from ..errors import BadInput
from ..fsutil import check_writable, user_cache_dir
from ..gobuild.target import Target, resolve
from ..gobuild.toolchain import find_toolchain
from ..oci.cache import LayerCache
from ..oci.views import ConfigView
from ..platform import Platform
from ..registries import RegistryPool
from ..report.units import human_bytes
from ..strategy import Strategy
from . import prefer as prefer_mod
from .build import BuiltVariant, build_variant
from .engine import Engine, docker_cli
from .measure import Measurement, measure, run_once, unpack
from .variants import from_config, ladder, select

SCHEMA_VERSION = 1
CHECKS = ("starts", "ca_roots", "tz", "dns", "user_db", "panic_file_line", "no_shell", "nonroot")
Progress = Callable[[str], None]
DEFAULT_REASONS = {"nonroot": "runs as root (uid 0): the image sets no user", "no_shell": "/bin/sh exists in the image"}


@dataclass
class CompareRequest:
    target: str = "."
    strategies: str | None = None
    port: int | None = None
    ready: str | None = None
    run_args: list[str] = field(default_factory=list)
    grace: float = 2.0
    baseline_base: str | None = None
    runs: int = 5
    html: Path | None = None
    markdown: Path | None = None
    use_engine: bool = True
    prefer: str = "balanced"  # compare/prefer.py
    platforms: list[str] = field(default_factory=list)  # first = the verdict's; others run under qemu-user


@dataclass
class VariantResult:
    built: BuiltVariant
    measurement: Measurement | None = None
    checks: dict[str, bool | None] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    carried_over: list[str] = field(default_factory=list)
    reduction_pct: float | None = None
    engine_loaded: bool = False
    engine_error: str = ""

    @property
    def spec(self) -> Strategy:
        return self.built.spec

    @property
    def image_bytes(self) -> int | None:
        return self.built.image.uncompressed_size if self.built.image else None

    @property
    def pull_bytes(self) -> int | None:
        return self.built.image.compressed_size if self.built.image else None

    @property
    def metrics(self) -> prefer_mod.Metrics:
        m, u = self.measurement, self.built.upx
        return prefer_mod.Metrics(self.spec.name, self.pull_bytes or 0, m.startup_ms if m else None,
                                  m.rss_bytes if m else None, u["startup_cpu_ms_added"] if u else None,
                                  u["private_bytes_added"] if u else None)

    @property
    def passes(self) -> bool:
        return (not self.built.skipped and self.checks.get("starts") is True
                and all(v is not False and (v is not None or k != "starts") for k, v in self.checks.items()))

    def to_json(self, target: str) -> dict[str, Any]:
        m = self.measurement
        return {
            "name": self.spec.name, "platform": str(self.built.platform),
            "description": self.spec.description, "skipped": self.built.skipped,
            "reason": self.built.reason or None, "binary_bytes": self.built.binary_bytes,
            "image_bytes": self.image_bytes, "pull_bytes": self.pull_bytes, "reduction_pct": self.reduction_pct,
            "startup_ms": m.startup_ms if m else None, "startup_ms_range": m.startup_range if m else None,
            "rss_bytes": m.rss_bytes if m else None, "rss_bytes_range": m.rss_range if m else None,
            "measured_runs": m.runs if m else 0,
            "measure_note": (m.reason or None) if m else None,
            "program_output_tail": (m.output or None) if m and not m.starts else None,
            "checks": self.checks, "check_reasons": self.reasons, "carried_over": self.carried_over,
            "passes": self.passes, "dynamic": self.built.dynamic, "missing_runtime_files": self.built.missing,
            "build_command": self.spec.build_command(target), "dockerfile": self.spec.dockerfile_flags(),
            "notes": self.built.notes, "upx": self.built.upx,
        }


@dataclass
class CompareResult:
    target: Target
    variants: list[VariantResult]
    needs: Needs | None
    engine: str
    timings: dict[str, float]
    notes: list[str]
    engine_version: str = ""
    prefer: str = "balanced"

    def verdict(self) -> dict[str, Any]:
        primary = self.variants[0].built.platform if self.variants else None
        passing = [v for v in self.variants if v.passes and v.pull_bytes is not None and v.built.platform == primary]
        if not passing:
            return {"best": None, "best_every_engine": None,
                    "reason": "every built variant failed to start or failed an applicable check"}
        ref = next((v.metrics for v in self.variants if v.spec.name == prefer_mod.REFERENCE
                    and v.pull_bytes is not None), None)
        name, excluded = prefer_mod.choose([v.metrics for v in passing], self.prefer, ref)
        best = next(v for v in passing if v.spec.name == name)
        universal = [v for v in passing if v.spec.compression != "zstd"]
        every_name, _ = prefer_mod.choose([v.metrics for v in universal], self.prefer, ref)
        every = next((v for v in universal if v.spec.name == every_name), None)
        return {"best": best.spec.name, "prefer": self.prefer,
                "bound": prefer_mod.BOUND if self.prefer == "balanced" else None, "excluded_by_bound": excluded,
                "pull_bytes": best.pull_bytes, "image_bytes": best.image_bytes,
                "command": best.spec.build_command(self.target.spec), "dockerfile": best.spec.dockerfile_flags(),
                "compatibility": self._compat(best), "best_every_engine": every.spec.name if every else None,
                "best_every_engine_command": every.spec.build_command(self.target.spec) if every else None}

    def _compat(self, v: VariantResult) -> list[str]:
        """Only what this run measured, plus the documented engine requirement for zstd."""
        notes = []
        if v.spec.compression == "zstd":
            here = f"{self.engine} {self.engine_version}".strip()
            loaded = (f"the engine here ({here}) loaded this image in this run" if v.engine_loaded
                      else f"the engine here ({here}) could not load it in this run: {v.engine_error}"
                      if v.engine_error else "no engine loaded it in this run")
            notes.append(f"zstd layers: pulling needs Docker Engine >= 23 or containerd >= 1.5; {loaded}")
        if "upx" in v.spec.post:
            ref = next((x for x in self.variants if x.spec.name == "ldflags-sw" and x.measurement), None)
            if ref and v.measurement and ref.measurement and ref.measurement.startup_ms and v.measurement.startup_ms:
                notes.append(f"UPX: start-up {v.measurement.startup_ms:.1f} ms vs {ref.measurement.startup_ms:.1f} ms, "
                             f"peak RSS {human_bytes(v.measurement.rss_bytes)} vs "
                             f"{human_bytes(ref.measurement.rss_bytes)} (ldflags-sw), medians measured in this run")
            u = v.built.upx
            if u:
                notes.append(f"UPX: +{u['startup_cpu_ms_added']:.1f} ms CPU and +{human_bytes(u['private_bytes_added'])} "
                             "private memory per process to reach Go's runtime (measured against the unpacked binary)")
            notes.append("UPX decompresses the program into memory at every start; pages are not shared")
        return notes

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict()["best"] else 1

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "target": self.target.spec, "engine": self.engine,
                "engine_version": self.engine_version or None,
                "needs": self.needs.to_json() if self.needs else None,
                "variants": [v.to_json(self.target.spec) for v in self.variants], "verdict": self.verdict(),
                "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()}, "notes": self.notes}


def _specs(target: Target, wanted: str | None) -> list[Strategy]:
    specs = ladder()
    cfg = config_mod.load(target.module_root)
    for name, doc in cfg.strategies.items():
        specs.append(from_config(str(name), doc, str(cfg.path)))
    return select(specs, wanted)


def _applicable(needs: Needs | None) -> dict[str, bool]:
    if needs is None:
        return {k: True for k in CHECKS}
    return {"starts": True, "ca_roots": needs.ca_roots, "tz": needs.loads_zones, "dns": needs.dns,
            "user_db": needs.user_db, "panic_file_line": True, "no_shell": True, "nonroot": True}


def validate(req: CompareRequest) -> None:
    """Everything that can be wrong with the request, checked before anything is built."""
    if req.ready is not None:
        try:
            re.compile(req.ready)
        except re.error as exc:
            raise BadInput(f"--ready {req.ready!r}: not a valid regular expression ({exc})") from None
    if req.port is not None and not 0 < req.port < 65536:
        raise BadInput(f"--port {req.port}: not a TCP port")
    if req.runs < 1:
        raise BadInput(f"--runs {req.runs}: must be at least 1")
    if req.grace <= 0:
        raise BadInput(f"--grace {req.grace}: must be more than 0 seconds")
    for path in (req.html, req.markdown):
        if path is not None:
            check_writable(path)
    parsed = [Platform.parse(p) for p in req.platforms]
    if len(set(parsed)) != len(parsed):
        raise BadInput("--platform: a platform is listed twice")


def compare(req: CompareRequest, progress: Progress = lambda _: None) -> CompareResult:
    started = time.perf_counter()
    validate(req)
    notes: list[str] = []
    toolchain = find_toolchain()
    target = resolve(req.target, toolchain)
    specs = _specs(target, req.strategies)
    if req.runs < 5:
        notes.append(f"--runs {req.runs}: medians of fewer than 5 runs are noisy; use them for a quick look only")
    platforms = [Platform.parse(p) for p in req.platforms] or [Platform.parse(f"linux/{toolchain.goarch}")]
    platform = platforms[0]
    jobs = [(s, platform) for s in specs] + [(_on(s, p), p) for p in platforms[1:] for s in specs if not s.baseline]
    cache = LayerCache(user_cache_dir())
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="slimgo-compare-") as tmp:
        work = Path(tmp)
        baseline_base = None
        if req.baseline_base:
            baseline_base = base_remote.resolve(req.baseline_base, [platform], cache, RegistryPool())[0]
        progress(f"building {len(jobs)} variant{'s' if len(jobs) != 1 else ''}")
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
            built = list(pool.map(lambda j: build_variant(j[0], toolchain, target, j[1], work, cache,
                                                          baseline_base), jobs))
        timings["build"] = time.perf_counter() - t0
        timings["go_build"] = sum(b.go_build_seconds for b in built)
        results = [VariantResult(b) for b in built]
        needs = _needs(work, results)
        applicable = _applicable(needs)
        if any(s.baseline for s in specs) and not req.baseline_base:
            notes.append("baseline ships the local toolchain, module cache and sources on the static base: it "
                         "underestimates a real golang image (no distro); --baseline-base REF puts it on one")
        t1 = time.perf_counter()
        for r in results:
            if r.built.image is None:
                continue
            progress(f"measuring {r.spec.name} (start-up and memory, {req.runs} runs)")
            root = work / "rootfs" / r.spec.name
            try:
                unpack(r.built.image, root)
                r.measurement = measure(root, r.built.image, req.run_args, req.port, req.ready, req.grace, req.runs)
            finally:
                shutil.rmtree(root, ignore_errors=True)
        timings["measure"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        docker = docker_cli() if req.use_engine else None
        engine_name = "docker" if docker else "none"
        engine_version = ""
        if docker:
            engine = Engine(docker, uuid.uuid4().hex[:8])
            engine_version = engine.version()
            zstd_error = engine.zstd_error(work, platform.arch) if any(r.spec.compression == "zstd" for r in results) else ""
            for r in results:
                if r.built.image is not None and r.spec.compression == "zstd" and zstd_error:
                    r.engine_error = zstd_error
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(lambda r: _engine_checks(engine, r, req, work, r.built.platform, applicable, progress),
                              [r for r in results if r.built.image is not None and not r.engine_error]))
            _carry_over(results)
        else:
            engine_name = "host (chroot)"
            engine_version = ""
            notes.append("no Docker engine: checks ran on the host in each image's unpacked root (chroot); "
                         "dns is not checked there (the engine provides /etc/hosts and /etc/resolv.conf)")
            for r in results:
                if r.built.image is not None:
                    _host_checks(r, applicable, work)
        timings["checks"] = time.perf_counter() - t2
        _reductions(results, notes)
    timings["total"] = time.perf_counter() - started
    return CompareResult(target, results, needs, engine_name, timings, notes, engine_version, req.prefer)


def _on(spec: Strategy, platform: Platform) -> Strategy:
    """A rung on an extra platform: same strategy, its own name (`upx@arm64`); the verdict is the first's."""
    return replace(spec, name=f"{spec.name}@{platform.arch}{platform.variant}")


def _needs(work: Path, results: list[VariantResult]) -> Needs | None:
    """The user's program's needs, from an unpacked, unstripped-enough build (cgo-off if present)."""
    order = ["cgo-off", "trimpath", "ldflags-sw", "default"]
    for name in order + [r.spec.name for r in results]:
        r = next((x for x in results if x.spec.name == name and not x.built.skipped and "upx" not in x.spec.post),
                 None)
        if r is None:
            continue
        files = [p for p in (work / r.spec.name / "bin").rglob("*") if p.is_file()]
        if files:
            return analyze_file(files[0]).needs
    return None


def _engine_checks(engine: Engine, r: VariantResult, req: CompareRequest, work: Path, platform: Platform,
                   applicable: dict[str, bool], progress: Progress) -> None:
    tag_name = r.spec.name.replace("@", ".")  # `upx@arm64`: '@' cannot be in a tag
    tag = f"slimgo-compare/{engine.run_id}:{tag_name}"
    probe_tag = f"slimgo-compare/{engine.run_id}:{tag_name}-probe"
    progress(f"checking {r.spec.name} in the engine")
    try:
        assert r.built.image is not None and r.built.probe is not None
        engine.load(r.built.image, tag, work, platform.arch)
        engine.load(r.built.probe, probe_tag, work, platform.arch)
        r.engine_loaded = True
        starts, why = engine.starts(tag, req.run_args, req.port, req.ready, req.grace)
        r.checks["starts"] = starts
        if why:
            r.reasons["starts"] = why
        found, probe_why = engine.probe(probe_tag)
        for name in CHECKS[1:]:
            if not applicable.get(name, True):
                r.checks[name] = None
                r.reasons[name] = "not applicable: the program does not need it"
            elif found is None:
                r.checks[name] = False
                r.reasons[name] = f"probe did not run: {probe_why}"
            else:
                r.checks[name] = bool(found.get(name))
                err = (found.get("errors") or {}).get(name) or DEFAULT_REASONS.get(name, "")
                if not r.checks[name]:
                    r.reasons[name] = str(err)[:200]
    except RuntimeError as exc:
        r.engine_error = str(exc)
        for name in CHECKS:
            r.checks[name] = None
            r.reasons[name] = f"could not run in the engine: {exc}"
    finally:
        engine.remove(tag)
        engine.remove(probe_tag)


def _diff_ids(r: VariantResult) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if r.built.image is None or r.built.probe is None:
        return None
    return tuple(ConfigView(r.built.image.config).diff_ids), tuple(ConfigView(r.built.probe.config).diff_ids)


def _carry_over(results: list[VariantResult]) -> None:
    """A variant the engine could not load (zstd on Docker < 23) takes the file-content checks of a variant
    whose images have the same diff_ids: the same files, differently compressed. Each is marked as carried
    over. `starts` never is: it comes from this variant's own run in the sandbox."""
    for r in results:
        if not r.engine_error or r.engine_loaded or _diff_ids(r) is None:
            continue
        why = r.engine_error
        m = r.measurement
        r.checks["starts"] = m.starts if m else None
        r.reasons["starts"] = (f"measured in the sandbox (the engine could not load it: {why})" if m and m.starts
                               else (m.reason if m else f"not run: the engine could not load it: {why}"))
        twin = next((x for x in results if x is not r and x.engine_loaded and _diff_ids(x) == _diff_ids(r)), None)
        if twin is None:
            continue
        for k in CHECKS[1:]:
            r.checks[k] = twin.checks.get(k)
            r.reasons[k] = f"carried over from {twin.spec.name} (identical diff_ids); not run: {why}"
        r.carried_over = list(CHECKS[1:])


def _starts(r: VariantResult) -> bool:
    if "starts" in r.checks:
        return r.checks["starts"] is True
    return bool(r.measurement and r.measurement.starts)


def _reductions(results: list[VariantResult], notes: list[str]) -> None:
    """Reductions are against `baseline`, and only when baseline itself started: a percentage against an
    image that does not run would measure nothing."""
    base_ref = next((r for r in results if r.spec.baseline and r.image_bytes), None)
    if base_ref is None or not base_ref.image_bytes:
        return
    if not _starts(base_ref):
        notes.append(f"baseline does not start ({base_ref.reasons.get('starts') or 'see its checks'}): "
                     "no reduction is reported against it")
        return
    reference = base_ref.image_bytes
    for r in results:
        if r.image_bytes:
            r.reduction_pct = round(100 * (reference - r.image_bytes) / reference, 1)


def _host_checks(r: VariantResult, applicable: dict[str, bool], work: Path) -> None:
    """Without an engine: `starts` from the chroot measurement, the probe run in its own unpacked root."""
    m = r.measurement
    r.checks["starts"] = m.starts if m else None
    if m and m.reason and not m.starts:
        r.reasons["starts"] = m.reason
    found, why = None, "no probe image"
    if r.built.probe is not None:
        root = work / "rootfs" / f"{r.spec.name}-probe"
        try:
            unpack(r.built.probe, root)
            code, output = run_once(root, r.built.probe)
            try:
                found = json.loads(output.strip().splitlines()[-1]) if code == 0 and output.strip() else None
            except ValueError:
                found = None
            why = output.strip()[-200:] if found is None else ""
        finally:
            shutil.rmtree(root, ignore_errors=True)
    for name in CHECKS[1:]:
        if not applicable.get(name, True):
            r.checks[name], r.reasons[name] = None, "not applicable: the program does not need it"
        elif name == "dns":
            r.checks[name], r.reasons[name] = None, "not run: needs a container engine's /etc/hosts"
        elif found is None:
            r.checks[name], r.reasons[name] = False, f"probe did not run: {why}"
        else:
            r.checks[name] = bool(found.get(name))
            if not r.checks[name]:
                r.reasons[name] = str((found.get("errors") or {}).get(name) or DEFAULT_REASONS.get(name, ""))[:200]
