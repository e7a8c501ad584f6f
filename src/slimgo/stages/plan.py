"""plan(request) → BuildPlan: every input resolved and checked before anything expensive runs.

The plan is data: the toolchain, the target, the flags, the platforms, the base's name, the layer
settings, the timestamp and where the image goes. It also holds the two places later features plug in:
`post_compile` (binary transforms run between compile and inspect, e.g. a packer) and `extra_layers`
(layers added beside the binary, e.g. a debugger).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .. import config as config_mod
from ..config import BuildConfig
from ..epoch import rfc3339, source_date_epoch
from ..errors import BadInput
from ..gobuild.backend import LOCAL, Compiler, compiler_for
from ..gobuild.build import BuiltBinary
from ..gobuild.outputs import LinkOutputs, link_root
from ..gobuild.target import Target, resolve
from ..gobuild.toolchain import EarlyAnswers, Toolchain, find_toolchain
from ..oci import compress
from ..oci.reference import Reference
from ..platform import Platform
from ..strategy import DEFAULT, GoFlags
from .refs import push_refs

if TYPE_CHECKING:  # the image side is imported while Go compiles, not before it starts (pipeline.build)
    from ..debug.plan import DebugPlan
    from ..oci.layer import Entry
    from ..oci.model import ImageConfig
    from ..registry.auth import CredentialSource
    from ..supplychain.sign import Signer


@dataclass
class BuildRequest:
    """What the user asked for (the CLI's flags, or a library caller's)."""

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
    debug_config: Path | None = None  # --debug-config DIR: launch.json and dlv-init are written here
    upx_path: str | None = None  # --upx-path; else $SLIMGO_UPX, else PATH
    sbom: str = "spdx"  # spdx, cyclonedx or none: attached to every image as an OCI 1.1 referrer
    provenance: bool = True  # SLSA v1 provenance, attached likewise
    signer: Signer | None = None  # --sign-key: the key is read and decrypted before this request is made
    builder: str | None = None  # --builder ADDRESS: compile in that BuildKit daemon (None: this machine)
    builder_image: str | None = None  # --builder-image: the Go toolchain image it compiles in
    early: EarlyAnswers | None = None  # go env / go list started before the imports (gobuild.target.ask_early)
    resolved: Target | None = None  # `target` as `build ./...` already found it with one go list for all
    collect: bool = False  # `build ./...`: the session writes this image's local outputs with the others'


class BinaryTransform(Protocol):
    """A step between compile and inspect that rewrites a binary in place (e.g. a packer)."""

    name: str

    def __call__(self, binary: BuiltBinary) -> BuiltBinary: ...

    def readable(self, binary: BuiltBinary) -> BuiltBinary:
        """The file to read build info and the function table from (a packer keeps the unpacked one)."""
        ...


class ExtraLayer(Protocol):
    """A layer added after the data layer and before the binary's, per platform (e.g. a debugger).

    A layer with a `cache_key` is the same for every program (a tool): it is written with mtime 0, not the
    build's epoch, and cached under that key, so every image that carries it shares one blob and a cached
    build never calls `entries`. `configure` may change the image config (a debugger's entrypoint)."""

    comment: str
    created_by: str

    def entries(self, platform: Platform, work: Path) -> list[Entry]: ...

    def cache_key(self, platform: Platform) -> str | None: ...

    def configure(self, config: ImageConfig, binary: BuiltBinary, app_dir: str) -> None: ...


@dataclass(frozen=True)
class Outputs:
    """Where the image goes; the sinks are made from this once registries can be reached."""

    oci_layout: Path | None = None
    tarball: Path | None = None
    image_refs: Path | None = None
    load: bool = False
    push: tuple[Reference, ...] = ()
    default_tarball: bool = False  # dist/NAME.tar, chosen by slimgo: its folder is made only when written
    debug_config: Path | None = None  # the debugger's client configuration (--debug-config DIR)


@dataclass(frozen=True)
class BuildPlan:
    toolchain: Toolchain
    target: Target
    flags: GoFlags
    platforms: tuple[Platform, ...]  # empty with `--platform all`: the base decides
    base_name: str
    compression: str
    level: int
    epoch: int
    tags: tuple[Reference, ...]
    outputs: Outputs
    data_dir: Path | None = None
    user: str | None = None
    reference_build: bool = False  # a plain `go build` too, for the reduction line: opt-in (--reference)
    cache: bool = True
    notes: tuple[str, ...] = ()
    sbom: str = "spdx"
    provenance: bool = True
    signer: Signer | None = None
    post_compile: tuple[BinaryTransform, ...] = ()
    extra_layers: tuple[ExtraLayer, ...] = ()
    debug: DebugPlan | None = None  # --debug: also one of extra_layers
    library: str = compress.DEFAULT_LIBRARY  # the deflate library of the program's own gzip layers (--gzip-library)
    labels: tuple[tuple[str, str], ...] = ()  # added by a transform (e.g. the UPX version that packed the binary)
    compiler: Compiler = LOCAL  # where `go build` runs (gobuild/backend.py)

    @property
    def all_platforms(self) -> bool:
        return not self.platforms

    @property
    def embedded_base(self) -> bool:
        from ..base.resolve import EMBEDDED

        return self.base_name in EMBEDDED

    @property
    def base_level(self) -> int:
        """The embedded base stays on zlib (cached per spec, shared by every build): its level is ours only
        when the program's layers use zlib too."""
        return self.level if self.library == "zlib" else compress.check(self.compression, None)

    @property
    def created(self) -> str:
        return rfc3339(self.epoch)


def plan(req: BuildRequest, env: Mapping[str, str] = os.environ, toolchain: Toolchain | None = None) -> BuildPlan:
    """`toolchain`: one already found (the programs of one `build ./...` share it); else found here."""
    compiler = compiler_for(req.builder, req.builder_image, _link_outputs(req.cache),  # buildctl and the builder: asked first
                            req.early.rerun if req.early is not None else None)
    toolchain = toolchain or find_toolchain(req.go, req.early)
    target = req.resolved if req.resolved is not None else resolve(req.target, toolchain, req.early)
    cfg = config_mod.load(target.module_root).build.overlay(req.settings)
    # GOOS/GOARCH/GOARM in the environment become the platform (or are refused), so the binary, the image
    # config and the summary can never disagree.
    cfg.env, cfg.platforms = config_mod.platform_from_env(cfg.env, cfg.platforms, "--env/build.env")
    flags = DEFAULT.flags.with_user(ldflags=cfg.ldflags, gcflags=cfg.gcflags,
                                    tags=tuple(cfg.tags) if cfg.tags is not None else None, env=cfg.env)
    if cfg.trimpath is False:
        flags = replace(flags, trimpath=False)
    platforms = _platforms(cfg.platforms, toolchain)
    compiler.check(target, flags)
    if cfg.upx and (cfg.debug or cfg.debug_continue):
        raise BadInput("--upx and --debug do not go together: Delve reads the symbols and DWARF that a packed "
                       "binary hides")
    debug = _debug_plan(cfg, toolchain, platforms, req.cache)
    if debug is not None:
        flags = debug.flags(flags, cfg.gcflags)
    elif req.debug_config is not None:
        raise BadInput("--debug-config writes the debugger's configuration: it needs --debug")
    compression = cfg.compression or _default_compression(req, cfg)
    library = cfg.compression_library or compress.default_library(compression)
    level = compress.check(compression, cfg.compression_level, library)
    notes = ["zstd layers: Docker Engine < 23 and containerd < 1.5 cannot pull this image"] \
        if compression == "zstd" else []
    tags = tuple(Reference.parse(t) for t in req.image_tags) or (Reference.parse(target.name),)
    epoch = source_date_epoch(env)
    outputs = _outputs(req, target, tags, env.get("SLIMGO_REPO", ""))
    if req.signer is not None and not (outputs.push or outputs.oci_layout or outputs.tarball):
        notes.append("--sign-key: the Docker engine keeps no signatures; --push, --oci-layout or --tarball store them")
    if req.cache:
        notes += cache_notes()
    post: tuple[BinaryTransform, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    if cfg.upx:  # every UPX refusal (PIE, cgo, platform, no UPX, bad --upx-args) comes before compiling
        from ..upx.stage import LABEL, UpxStage

        stage = UpxStage.prepare(platforms, flags, env, req.upx_path, cfg.upx_args, compression, level, epoch)
        post, labels = (stage,), ((LABEL, stage.label),)
    return BuildPlan(
        toolchain=toolchain, target=target, flags=flags,
        platforms=platforms, base_name=cfg.base or "static",
        compression=compression, level=level, library=library, epoch=epoch, tags=tags, post_compile=post, labels=labels,
        outputs=outputs,
        data_dir=_data_dir(cfg, req.settings, target),
        user=config_mod.check_user(cfg.user) if cfg.user is not None else None,
        reference_build=req.reference_build, cache=req.cache, notes=tuple(notes),
        extra_layers=(debug,) if debug is not None else (), debug=debug,
        sbom=_sbom_format(req.sbom), provenance=req.provenance, signer=req.signer, compiler=compiler)


def cache_notes() -> list[str]:
    """What a user should know about slimgo's cache before wondering why nothing is reused."""
    from ..cachedir import cache_dir, configured_cache_dir

    notes = []
    configured, where = configured_cache_dir(), cache_dir()
    if not os.path.isabs(configured):
        notes.append(f"the cache directory is given as a relative path ({configured}): it is {where} from here, "
                     "and no `go build` is started at launch from it; give SLIMGO_CACHE as an absolute path")
    existing = where
    while not os.path.exists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        notes.append(f"slimgo's cache ({where}) cannot be written: every build links and compresses afresh; "
                     "set SLIMGO_CACHE to a directory you can write, or pass --no-cache")
    return notes


def _link_outputs(cache: bool) -> LinkOutputs | None:
    """Go's outputs live in slimgo's cache between builds, so an unchanged program is not linked again;
    `--no-cache` links in the work directory every time."""
    return LinkOutputs(link_root()) if cache else None


def _debug_plan(cfg: BuildConfig, toolchain: Toolchain, platforms: tuple[Platform, ...],
                cache: bool) -> DebugPlan | None:
    if not (cfg.debug or cfg.debug_continue):
        return None
    from ..debug.plan import DebugPlan
    from ..fsutil import user_cache_dir
    from ..oci.cache import LayerCache

    return DebugPlan.create(True, bool(cfg.debug_continue), cfg.delve_version, toolchain, platforms,
                            LayerCache(user_cache_dir()) if cache else None)


def _default_compression(req: BuildRequest, cfg: BuildConfig) -> str:
    """gzip; but when the engine is the only destination, none: it stores layers uncompressed, so deflating
    the program's layer only for the engine to inflate it again costs the edit-run loop seconds on a large
    binary (README: Performance). A level or library the user chose still means gzip."""
    engine_only = req.load and req.push is None and req.tarball is None and req.oci_layout is None
    chosen = cfg.compression_level is not None or cfg.compression_library is not None
    return "none" if engine_only and not chosen else "gzip"


def _sbom_format(value: str) -> str:
    if value not in ("spdx", "cyclonedx", "none"):
        raise BadInput(f"--sbom {value!r}: expected spdx, cyclonedx or none")
    return value


def _platforms(wanted: list[str] | None, toolchain: Toolchain) -> tuple[Platform, ...]:
    if wanted == ["all"]:
        return ()
    platforms = [Platform.parse(p) for p in (wanted or [f"linux/{toolchain.goarch}"])]
    if len(set(platforms)) != len(platforms):
        raise BadInput("a platform is listed twice")
    return tuple(platforms)


def _data_dir(cfg: BuildConfig, cli: BuildConfig, target: Target) -> Path | None:
    data_dir = Path(cfg.data) if cfg.data else None
    if data_dir is not None and cli.data is None and not data_dir.is_absolute() and target.module_root:
        data_dir = target.module_root / data_dir  # a path in .slimgo.yaml is relative to the module
    if data_dir is not None:
        config_mod.check_data_dir(data_dir, "--data" if cli.data is not None else "build.data")
    return data_dir


def _outputs(req: BuildRequest, target: Target, tags: tuple[Reference, ...], repo_prefix: str) -> Outputs:
    tarball = req.tarball
    default = req.oci_layout is None and tarball is None and req.push is None and not req.load and not req.collect
    if default:
        tarball = Path("dist") / f"{target.name}.tar"  # the default output, like `docker build -o`
    pushes = push_refs(req.push, target.name, tags, repo_prefix) if req.push is not None else []
    return Outputs(req.oci_layout, tarball, req.image_refs, req.load, tuple(pushes), default, req.debug_config)
