"""`slimgo build` as a library call: target → binaries → images → sinks.

The builder (gobuild) knows Go; the assembler knows layers and configs; sinks know formats. This module
only wires them and measures each step.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import config as config_mod
from .base import resolve as base_resolve
from .base.model import Base, base_files
from .base.static import StaticBaseSpec
from .binary import buildinfo, pclntab
from .binary import elf as elf_mod
from .binary.linking import missing_runtime_files
from .binary.needs import detect as detect_needs
from .config import BuildConfig
from .errors import BadInput
from .fsutil import check_writable, user_cache_dir, write_bytes
from .gobuild.build import BuiltBinary, compile_binary
from .gobuild.target import Target, resolve
from .gobuild.toolchain import Toolchain, find_toolchain
from .oci import compress
from .oci.cache import LayerCache
from .oci.layer import Entry, dir_entry, tree_entries, write_layer
from .oci.mediatypes import OCI_LAYER_TAR
from .oci.model import Image, ImageConfig, Index, Layer, make_image, make_index
from .oci.reference import Reference
from .platform import Platform
from .sinks.archive import write_archive
from .sinks.content import Published
from .sinks.layout import write_layout
from .strategy import DEFAULT, PLAIN, GoFlags

if TYPE_CHECKING:  # the registry client pulls in requests (~80 ms): imported only when publishing
    from .registry.auth import CredentialSource
    from .registry.client import PushStats, Registry

SCHEMA_VERSION = 1
APP_DIR = "app"
DATA_DIR = "app/data"
DATA_ENV = "SLIMGO_DATA_PATH"

Progress = Callable[[str], None]


UNCOMPRESSED_LAYERS = (OCI_LAYER_TAR, "application/vnd.docker.image.rootfs.diff.tar")


def _quiet(_: str) -> None:
    pass


@dataclass
class BuildRequest:
    target: str = "."
    settings: BuildConfig = field(default_factory=BuildConfig)  # command-line keys; they win over the file
    image_tags: list[str] = field(default_factory=list)
    oci_layout: Path | None = None
    tarball: Path | None = None
    image_refs: Path | None = None
    reference_build: bool = False  # a plain `go build` too, for the reduction line: opt-in (--reference)
    go: str | None = None
    cache: bool = True
    push: str | None = None  # "" pushes to $SLIMGO_REPO/NAME
    load: bool = False
    insecure_registries: list[str] = field(default_factory=list)
    credentials: CredentialSource | None = None


@dataclass
class PlatformResult:
    platform: Platform
    image: Image
    binary: BuiltBinary
    base: Base

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": str(self.platform),
            "digest": self.image.digest,
            "binary_bytes": self.binary.size,
            "compressed_bytes": self.image.compressed_size,
            "uncompressed_bytes": self.image.uncompressed_size,
            "layers": [_layer_json(layer) for layer in self.image.layers],
        }


@dataclass
class BuildResult:
    target: Target
    toolchain: Toolchain
    published: Published
    platforms: list[PlatformResult]
    flags: GoFlags
    base_name: str
    reference_binary_bytes: int | None
    outputs: dict[str, str]
    timings: dict[str, float]
    notes: list[str]
    image_refs: list[str]
    push_stats: dict[str, int] | None = None

    @property
    def primary(self) -> PlatformResult:
        return self.platforms[0]

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
        return {
            "schema_version": SCHEMA_VERSION,
            "target": self.target.spec,
            "package": self.target.package,
            "go_version": self.toolchain.version,
            "image_digest": self.published.digest,
            "compressed_bytes": self.compressed_bytes,
            "uncompressed_bytes": self.uncompressed_bytes,
            "binary_bytes": self.primary.binary.size,
            "reference_binary_bytes": self.reference_binary_bytes,
            "binary_reduction_pct": self.reduction_pct,
            "base": self.base_name,
            "go_build": self.flags.command_line(),
            "layers": [_layer_json(layer) for layer in self.unique_layers()],
            "platforms": [p.to_json() for p in self.platforms],
            "tags": [str(t) for t in self.published.tags],
            "image_refs": self.image_refs,
            "outputs": self.outputs,
            "push": self.push_stats,
            "timings_seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "notes": self.notes,
        }


def _layer_json(layer: Layer) -> dict[str, Any]:
    return {"digest": layer.digest, "diff_id": layer.diff_id, "media_type": layer.descriptor.media_type,
            "compressed_bytes": layer.size, "uncompressed_bytes": layer.uncompressed_size,
            "comment": layer.comment}


def source_date_epoch() -> int:
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds") from None
    if value < 0:
        raise BadInput("SOURCE_DATE_EPOCH must not be negative")
    return value


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _labels(target: Target, binary: BuiltBinary, base: Base) -> dict[str, str]:
    labels = {"org.opencontainers.image.title": target.name, "org.opencontainers.image.base.name": base.name}
    if base.digest:
        labels["org.opencontainers.image.base.digest"] = base.digest
    with elf_mod.MappedFile(binary.path) as mf:
        info = buildinfo.read(elf_mod.parse(mf.view))
    if info is None:
        return labels
    main = info.main
    version = target.version or (main.version if main and main.version not in ("", "(devel)") else "")
    if version:
        labels["org.opencontainers.image.version"] = version
    if info.setting("vcs.revision"):
        labels["org.opencontainers.image.revision"] = info.setting("vcs.revision")
    module_path = main.path if main else target.module_path
    if module_path.split("/")[0] in ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org"):
        labels["org.opencontainers.image.source"] = "https://" + "/".join(module_path.split("/")[:3])
    return labels


def _done(value: Any) -> "Future[Any]":
    f: Future[Any] = Future()
    f.set_result(value)
    return f


def _check_linking(binary: BuiltBinary, base: Base) -> None:
    with elf_mod.MappedFile(binary.path) as mf:
        info = elf_mod.parse(mf.view)
        if not info.is_dynamic:
            return
        missing = missing_runtime_files(info, base_files(base))
    if missing:
        raise BadInput(
            f"{binary.name} ({binary.platform}) is dynamically linked (cgo) but base {base.name} lacks "
            f"{', '.join(missing)}: build with CGO_ENABLED=0 or use a base with that libc")


def static_spec_for(path: Path, name: str) -> tuple[StaticBaseSpec, list[str]]:
    """The static base a binary needs, from the functions it links (see binary/needs.py), and notes
    saying what was left out and why."""
    with elf_mod.MappedFile(path) as mf:
        e = elf_mod.parse(mf.view)
        try:
            table = pclntab.read(e)
        except BadInput:
            table = None
    if table is None or table.partial:
        return StaticBaseSpec(), [f"{name}: function table unreadable (packed?): the base keeps CA roots and zoneinfo"]
    names = {f.name for f in table.funcs}
    needs = detect_needs(names, {pclntab.package_of(n) for n in names}, e.is_dynamic)
    notes = []
    if not needs.ca_roots:
        notes.append(f"{name}: CA bundle left out of the base (the program never loads system TLS roots)")
    if not needs.zoneinfo:
        why = "time/tzdata is embedded" if needs.tzdata_embedded else "the program never loads time zones"
        notes.append(f"{name}: zoneinfo left out of the base ({why})")
    if notes:
        notes.append("use --base static-full to keep everything")
    return StaticBaseSpec(ca_roots=needs.ca_roots, zoneinfo=needs.zoneinfo), notes


class Builder:
    """One build. Holds the resolved inputs so each step reads like the sentence that describes it."""

    def __init__(self, req: BuildRequest, progress: Progress = _quiet) -> None:
        self.req = req
        self.progress = progress
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}
        self._push_stats: PushStats | None = None
        self._registries: dict[str, Registry] = {}

    def run(self) -> BuildResult:
        req = self.req
        started = time.perf_counter()
        toolchain = find_toolchain(req.go)
        self.progress(f"resolving {req.target}")
        target = resolve(req.target, toolchain)
        file_cfg = config_mod.load(target.module_root).build
        cfg = file_cfg.overlay(req.settings)
        # GOOS/GOARCH/GOARM in the environment become the platform (or are refused), so the binary, the
        # image config and the summary can never disagree.
        cfg.env, cfg.platforms = config_mod.platform_from_env(cfg.env, cfg.platforms, "--env/build.env")
        flags = DEFAULT.flags.with_user(ldflags=cfg.ldflags, gcflags=cfg.gcflags,
                                        tags=tuple(cfg.tags) if cfg.tags is not None else None, env=cfg.env)
        base_name = cfg.base or "static"
        want_all = cfg.platforms == ["all"]
        platforms = [] if want_all else [Platform.parse(p) for p in (cfg.platforms or [f"linux/{toolchain.goarch}"])]
        if len(set(platforms)) != len(platforms):
            raise BadInput("a platform is listed twice")
        cache_root = LayerCache(user_cache_dir())
        remote_bases: list[Base] | None = None
        if base_name not in base_resolve.EMBEDDED:
            # Resolved before compiling: a missing platform or a refused registry fails in a second.
            self.progress(f"resolving base {base_name}")
            from .base import remote as base_remote

            remote_bases = base_remote.resolve(base_name, None if want_all else platforms, cache_root,
                                               self._registry)
            if want_all:
                platforms = [Platform.parse(b.platform_key) for b in remote_bases]
            raw = {layer.digest: layer.size for b in remote_bases for layer in b.layers
                   if layer.descriptor.media_type in UNCOMPRESSED_LAYERS}
            if raw:
                from .report.units import human_bytes

                self.notes.append(f"base {base_name}: {len(raw)} layer(s), {human_bytes(sum(raw.values()))}, "
                                  "are stored uncompressed, as the engine exported them; they are reused "
                                  "byte-for-byte, so pulls carry them uncompressed (a registry or oci: base "
                                  "keeps its compressed blobs)")
        elif want_all:
            platforms = [Platform.parse(p) for p in base_resolve.ALL_PLATFORMS]
        compression = cfg.compression or "gzip"
        level = compress.check(compression, cfg.compression_level)
        if compression == "zstd":
            self.notes.append("zstd layers: Docker Engine < 23 and containerd < 1.5 cannot pull this image")
        data_dir = Path(cfg.data) if cfg.data else None
        if data_dir is not None and req.settings.data is None and not data_dir.is_absolute() and target.module_root:
            data_dir = target.module_root / data_dir  # a path in .slimgo.yaml is relative to the module
        if data_dir is not None:
            config_mod.check_data_dir(data_dir, "--data" if req.settings.data is not None else "build.data")
        user = config_mod.check_user(cfg.user) if cfg.user is not None else None
        tags = tuple(Reference.parse(t) for t in req.image_tags) or (Reference.parse(target.name),)
        tarball = req.tarball
        default_out = req.oci_layout is None and tarball is None and req.push is None and not req.load
        if default_out:  # dist/ is created only when the tarball is written: a failed run leaves no dist/
            tarball = Path("dist") / f"{target.name}.tar"
        for path, is_dir in ((req.oci_layout, True), (tarball, False), (req.image_refs, False)):
            if path is not None:
                check_writable(path, directory=is_dir, create_parent=default_out and path == tarball)
        epoch = source_date_epoch()
        push_refs = self._push_refs(req.push, target.name, tags) if req.push is not None else []
        for ref in push_refs:  # unreachable registries and refused credentials fail before compiling
            self._registry(ref.registry).ping(ref.repository)
        if req.load:  # so does an engine that does not answer
            from .sinks import daemon as daemon_sink

            daemon_sink.ping()
        self.timings["resolve"] = time.perf_counter() - started

        work = Path(tempfile.mkdtemp(prefix="slimgo-build-"))
        committed = False
        try:
            binaries, reference = self._compile(toolchain, target, flags, platforms, work)
            t0 = time.perf_counter()
            cache = cache_root if req.cache else None
            results = self._assemble(target, binaries, base_name, user, data_dir, compression, level, epoch,
                                     work / "blobs", cache, remote_bases)
            artifact: Image | Index = results[0].image if len(results) == 1 else \
                make_index([r.image for r in results])
            published = Published(artifact, tags)
            self.timings["assemble"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            outputs: dict[str, str] = {}
            refs = [ref.with_digest(published.digest) for ref in tags]
            push_stats = None
            # Remote sinks first: a failed push or load leaves no local output behind either.
            if push_refs:
                t_push = time.perf_counter()
                self.progress(f"pushing {', '.join(str(r) for r in push_refs)}")
                refs = []
                from .sinks import registry as registry_sink

                for host in dict.fromkeys(r.registry for r in push_refs):
                    reg = self._registry(host)
                    refs += registry_sink.push(published, reg, tuple(r for r in push_refs if r.registry == host))
                push_stats = self.push_stats.to_json()
                self.timings["push"] = time.perf_counter() - t_push
                outputs["pushed"] = ", ".join(refs)
            if req.load:
                self.progress("loading into the Docker engine")
                archive = work / "load.tar"
                write_archive(archive, published, toolchain.goarch)
                from .sinks import daemon as daemon_sink

                outputs["loaded"] = "; ".join(daemon_sink.load_archive(archive))
            if req.oci_layout is not None:
                self.progress(f"writing OCI layout {req.oci_layout}")
                outputs["oci_layout"] = str(write_layout(req.oci_layout, published))
            if tarball is not None:
                self.progress(f"writing {tarball}")
                outputs["tarball"] = str(_write_tarball(tarball, published, toolchain.goarch))
            if req.image_refs is not None:
                write_bytes(req.image_refs, ("\n".join(refs) + "\n").encode())
                outputs["image_refs"] = str(req.image_refs)
            committed = True
            self.timings["write"] = time.perf_counter() - t1
            self.progress("every output is in place")
            shutil.rmtree(work, ignore_errors=True)
        except KeyboardInterrupt:
            # Once every output has been renamed into place the build has succeeded; an interrupt while
            # cleaning up must not turn it into a failure.
            if not committed:
                raise
            self.notes.append("interrupted after every output was in place: the build succeeded")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.timings["total"] = time.perf_counter() - started
        return BuildResult(target, toolchain, published, results, flags, results[0].base.name, reference,
                           outputs, self.timings, self.notes, refs, push_stats)

    @property
    def push_stats(self) -> PushStats:
        if self._push_stats is None:
            from .registry.client import PushStats

            self._push_stats = PushStats()
        return self._push_stats

    def _registry(self, host: str) -> Registry:
        from .registry.auth import CredentialSource
        from .registry.client import Registry

        if host not in self._registries:
            insecure = host in self.req.insecure_registries
            self._registries[host] = Registry(host, insecure=insecure,
                                              credentials=self.req.credentials or CredentialSource(),
                                              stats=self.push_stats)
        return self._registries[host]

    @staticmethod
    def _push_refs(push: str, name: str, tags: tuple[Reference, ...]) -> list[Reference]:
        """`--push REF`; an empty REF (or one without a registry) goes under $SLIMGO_REPO."""
        repo = os.environ.get("SLIMGO_REPO", "").rstrip("/")
        if not push:
            if not repo:
                raise BadInput("--push needs a REF, or SLIMGO_REPO set to a repository prefix")
            return [Reference.parse(f"{repo}/{name}:{t.tag or 'latest'}") for t in tags]
        if repo and "/" not in push.split(":")[0] and "." not in push.split("/")[0]:
            push = f"{repo}/{push}"
        first = Reference.parse(push)
        extra = [Reference.parse(f"{first.short_name}:{t.tag}") for t in tags if t.tag and t.tag != first.tag
                 and t.short_name == first.short_name]
        return [first, *extra]

    def _compile(self, toolchain: Toolchain, target: Target, flags: GoFlags, platforms: list[Platform],
                 work: Path) -> tuple[list[BuiltBinary], int | None]:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            ref_future: Future[BuiltBinary] | None = None
            if self.req.reference_build:
                plain = PLAIN.flags.with_user(env={k: v for k, v in flags.env if k != "CGO_ENABLED"})
                ref_future = pool.submit(compile_binary, toolchain, target, plain, platforms[0], work / "reference")
            binaries = []
            for platform in platforms:
                self.progress(f"compiling {target.package} for {platform}")
                binaries.append(compile_binary(toolchain, target, flags, platform, work / "bin", self.progress))
            self.timings["go_build"] = time.perf_counter() - t0
            reference = None
            if ref_future is not None:
                self.progress("measuring plain `go build` for comparison")
                try:
                    reference = ref_future.result().size
                except BadInput as exc:  # the reference is a measurement, not the job
                    self.notes.append(f"plain go build reference failed: {exc}")
        self.timings["go_build_with_reference"] = time.perf_counter() - t0
        return binaries, reference

    def _assemble(self, target: Target, binaries: list[BuiltBinary], base_name: str, user: str | None,
                  data_dir: Path | None, compression: str, level: int, epoch: int, blob_dir: Path,
                  cache: LayerCache | None, remote_bases: list[Base] | None = None) -> list[PlatformResult]:
        self.progress("assembling image")
        created = rfc3339(epoch)
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            data_future: Future[Layer] | None = None
            if data_dir is not None:
                data_entries = [dir_entry(APP_DIR), *tree_entries(data_dir, DATA_DIR)]
                data_future = pool.submit(write_layer, data_entries, blob_dir, compression=compression, level=level,
                                          mtime=epoch, comment="data")
            bin_futures = [pool.submit(write_layer, self._binary_entries(b), blob_dir, compression=compression,
                                       level=level, mtime=epoch, comment=f"{b.name} binary") for b in binaries]
            if remote_bases is not None:
                bases = [_done(b) for b in remote_bases]
            else:
                bases = [pool.submit(base_resolve.resolve_embedded, base_name, b.platform.oci(), blob_dir, cache,
                                     compression, level, *self._base_spec(base_name, b)) for b in binaries]
            data_layer = data_future.result() if data_future else None
            results = []
            for binary, bin_f, base_f in zip(binaries, bin_futures, bases):
                base = base_f.result()
                _check_linking(binary, base)
                layers = [*base.layers, *([data_layer] if data_layer else []), bin_f.result()]
                env = [f"{DATA_ENV}=/{DATA_DIR}"] if data_layer else []
                cfg = ImageConfig(platform=binary.platform.oci(), created=created, user=user, env=env,
                                  entrypoint=[f"/{APP_DIR}/{binary.name}"],
                                  labels=_labels(target, binary, base))
                history = []
                if data_layer:
                    history.append({"created": created, "created_by": "slimgo build: data", "comment": "data"})
                history.append({"created": created, "created_by": f"slimgo build: {binary.flags.command_line()}",
                                "comment": f"{binary.name} binary"})
                results.append(PlatformResult(binary.platform, make_image(base.config, layers, cfg, history),
                                              binary, base))
        return results

    def _base_spec(self, base_name: str, binary: BuiltBinary) -> tuple[StaticBaseSpec | None, tuple[str, ...]]:
        """`static` keeps only what the program can use (analyze's needs); `static-full` keeps everything."""
        if base_name != "static":
            return None, ()
        spec, notes = static_spec_for(binary.path, binary.name)
        for n in notes:
            if n not in self.notes:
                self.notes.append(n)
        return spec, tuple(notes)

    @staticmethod
    def _binary_entries(binary: BuiltBinary) -> list[Entry]:
        return [dir_entry(APP_DIR), Entry(f"{APP_DIR}/{binary.name}", "file", 0o755, source=binary.path)]


def _write_tarball(tarball: Path, published: Published, arch: str) -> Path:
    """Write the docker-archive, creating its directory (the default dist/) only now, and removing it
    again when the write fails or is interrupted and it is still empty."""
    parent = tarball.parent
    created = not parent.exists()
    if created:
        parent.mkdir(parents=True)
    try:
        return write_archive(tarball, published, arch)
    except BaseException:
        if created and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
        raise


def build(req: BuildRequest, progress: Progress = _quiet) -> BuildResult:
    return Builder(req, progress).run()
