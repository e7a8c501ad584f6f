"""assemble(base, addenda, config) → Image: the one assembler, used by `slimgo build` and `slimgo compare`.

An image is a base (layers reused byte for byte, a config to inherit) plus addenda: each a layer paired
with the history entry that describes it, as go-containerregistry's `mutate.Addendum` pairs them.
`assemble_build` is the build's use of it: per platform, the base the binary's facts call for, the data
layer, the plan's extra layers and the binary's layer, written in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .. import interruptible
from ..base.model import Base
from ..gobuild.build import BuiltBinary
from ..oci import compress
from ..oci.cache import LayerCache
from ..oci.layer import Entry, dir_entry, tree_entries, write_layer
from ..oci.layer_cache import cached_layer, remembered_tar_digest
from ..oci.model import Image, ImageConfig, Index, Layer, make_image, make_index
from ..platform import Platform
from .bases import base_for
from .inspect import BinaryFacts, inspect
from .labels import image_labels
from .plan import BuildPlan, ExtraLayer

APP_DIR = "app"
DATA_DIR = "app/data"
DATA_ENV = "SLIMGO_DATA_PATH"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Addendum:
    layer: Layer
    created_by: str
    comment: str


def assemble(base: Base, addenda: Sequence[Addendum], config: ImageConfig) -> Image:
    history = [{"created": config.created, "created_by": a.created_by, "comment": a.comment} for a in addenda]
    return make_image(base.config, [*base.layers, *(a.layer for a in addenda)], config, history)


def binary_entries(binary: BuiltBinary) -> list[Entry]:
    return [dir_entry(APP_DIR), Entry(f"{APP_DIR}/{binary.name}", "file", 0o755, source=binary.path)]


def binary_layer(binary: BuiltBinary, blob_dir: Path, compression: str, level: int | None, mtime: int = 0,
                 cache: LayerCache | None = None, library: str | None = None,
                 known: tuple[str, int] | None = None) -> Layer:
    """The binary's layer; with a cache, an identical binary reuses its compressed blob (no recompression).
    `known`: the layer's tar digest and size, when already measured (`tar_digest`). `library`: None is
    `slimgo build`'s default, so that `compare` measures the layer `build` writes."""
    return cached_layer(binary_entries(binary), blob_dir, cache, compression=compression, level=level, mtime=mtime,
                        comment=f"{binary.name} binary", library=library or compress.default_library(compression),
                        known=known)


def shared_layer(x: ExtraLayer, platform: Platform, work: Path, blob_dir: Path, cache: LayerCache | None,
                 compression: str, level: int) -> Layer:
    """An extra layer that is the same for every program: mtime 0 and cached, so its blob is shared."""
    key = f"{x.cache_key(platform)}-layer-{compression}-{level}"
    cached = cache.get(key) if cache else None
    if cached is not None:
        return cached
    made = write_layer(x.entries(platform, work), blob_dir, compression=compression, level=level, mtime=0,
                       comment=x.comment)
    return cache.put(key, made) if cache else made


def entrypoint(binary: BuiltBinary) -> list[str]:
    return [f"/{APP_DIR}/{binary.name}"]


def artifact_of(images: Sequence[Image]) -> Image | Index:
    return images[0] if len(images) == 1 else make_index(list(images))


@dataclass(frozen=True)
class PlatformImage:
    platform: Platform
    image: Image
    binary: BuiltBinary
    base: Base


@dataclass(frozen=True)
class Assembled:
    images: tuple[PlatformImage, ...]
    artifact: Image | Index
    notes: tuple[str, ...]  # what the static base left out and why
    facts: tuple[BinaryFacts, ...] = ()  # per image, in the same order: the SBOM and provenance are made from them


def assemble_build(plan: BuildPlan, binaries: Sequence[BuiltBinary], remote_bases: Sequence[Base] | None,
                   work: Path, cache: LayerCache | None, progress: Progress) -> Assembled:
    """Layers are written in parallel (data once, extras and the binary per platform); bases too. Each binary
    is hashed first (its layer's tar digest, one read); that digest keys both the compressed layer and the
    binary's facts in the cache, so an unchanged binary is neither compressed nor parsed again. Otherwise the
    layer is compressed (threads, GIL released) while the ELF is inspected."""
    progress("assembling image")
    blob_dir = work / "blobs"
    notes: list[str] = []

    def layer(entries: list[Entry], comment: str) -> Layer:
        return write_layer(entries, blob_dir, compression=plan.compression, level=plan.level, mtime=plan.epoch,
                           comment=comment, library=plan.library)

    def extra_layer(x: ExtraLayer, platform: Platform) -> Layer:
        key = x.cache_key(platform)
        if key is None:
            return layer(x.entries(platform, work), x.comment)
        return shared_layer(x, platform, work, blob_dir, cache, plan.compression, plan.base_level)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        # Go's build ID names the bytes only of the linker's own output with an ID Go chose (see layer_cache)
        by_build_id = cache if not plan.post_compile and "buildid" not in plan.flags.command_line() \
            and "buildid" not in os.environ.get("GOFLAGS", "") else None
        digests = list(pool.map(lambda b: remembered_tar_digest(binary_entries(b), plan.epoch, by_build_id),
                                binaries))
        bin_futures = [pool.submit(binary_layer, b, blob_dir, plan.compression, plan.level, plan.epoch, cache,
                                   plan.library, known) for b, known in zip(binaries, digests)]
        facts = [_inspect(b, plan, cache if cache is not None and not plan.post_compile else None, known[0])
                 for b, known in zip(binaries, digests)]
        data_future: Future[Layer] | None = None
        if plan.data_dir is not None:
            data_future = pool.submit(layer, [dir_entry(APP_DIR), *tree_entries(plan.data_dir, DATA_DIR)], "data")
        extra_futures = [[pool.submit(extra_layer, x, f.binary.platform) for x in plan.extra_layers] for f in facts]
        base_futures = [pool.submit(base_for, plan, f, blob_dir, cache) for f in facts] \
            if remote_bases is None else []
        data = [Addendum(interruptible.result(data_future), "slimgo build: data", "data")] if data_future else []
        images = []
        for i, f in enumerate(facts):
            if remote_bases is None:
                base, base_notes = interruptible.result(base_futures[i])
                notes += [n for n in base_notes if n not in notes]
            else:
                base = remote_bases[i]
            extras = [Addendum(interruptible.result(fut), x.created_by, x.comment)
                      for x, fut in zip(plan.extra_layers, extra_futures[i])]
            images.append(_platform_image(plan, f, base, data, extras, interruptible.result(bin_futures[i])))
    return Assembled(tuple(images), artifact_of([p.image for p in images]), tuple(notes), tuple(facts))


def _inspect(binary: BuiltBinary, plan: BuildPlan, cache: LayerCache | None, diff_id: str) -> BinaryFacts:
    """Facts about the binary the image carries, with build info and needs read from the file a transform
    kept readable (a packed binary's are compressed; its caller passes no cache)."""
    source = binary
    for transform in plan.post_compile:
        source = transform.readable(source)
    facts = inspect(source, with_needs=plan.base_name == "static", cache=cache, key=diff_id)
    return facts if source is binary else replace(facts, binary=binary)


def _platform_image(plan: BuildPlan, facts: BinaryFacts, base: Base, data: list[Addendum], extras: list[Addendum],
                    binary: Layer) -> PlatformImage:
    facts.check_fits(base)
    b = facts.binary
    config = ImageConfig(platform=b.platform.oci(), created=plan.created, user=plan.user,
                         env=[f"{DATA_ENV}=/{DATA_DIR}"] if data else [],
                         entrypoint=entrypoint(b),
                         labels={**image_labels(plan.target, facts.buildinfo, base), **dict(plan.labels),
                                 compress.LABEL: compress.describe(plan.compression, plan.level, plan.library)})
    for x in plan.extra_layers:
        x.configure(config, b, APP_DIR)
    image = assemble(base, [*data, *extras, Addendum(binary, f"slimgo build: {b.flags.command_line()}", f"{b.name} binary")],
                     config)
    return PlatformImage(b.platform, image, b, base)
