"""Turn `--base NAME` into a Base for one platform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..epoch import EPOCH_ZERO
from ..errors import BadInput
from ..oci.cache import LayerCache
from ..oci.layer import write_layer
from ..oci.model import Image, ImageConfig, make_image
from . import static
from .model import Base

EMBEDDED = ("static", "static-full", "scratch")
# What `--platform all` means on an embedded base: it is data only, so every platform Go targets on Linux.
ALL_PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x",
                 "linux/riscv64")


def scratch_config(platform: dict[str, str]) -> dict[str, Any]:
    return {**platform, "created": EPOCH_ZERO,
            "config": {"Env": [static.PATH_ENV]}, "rootfs": {"type": "layers", "diff_ids": []},
            "history": []}


def static_image(spec: static.StaticBaseSpec, platform: dict[str, str], blob_dir: Path, cache: LayerCache | None,
                 compression: str, level: int) -> Image:
    """The static base as an image of its own: what `slimgo base push` publishes and builds start from."""
    key = f"{static.cache_key(spec)}-{compression}-{level}"
    layer = cache.get(key) if cache else None
    if layer is None:
        layer = write_layer(static.entries(spec), blob_dir, compression=compression, level=level,
                            comment=f"slimgo {spec.name} base")
        if cache:
            layer = cache.put(key, layer)
    return make_image(static.config(spec, platform), [layer],
                      ImageConfig(platform=platform, created=EPOCH_ZERO), [])


def static_base(spec: static.StaticBaseSpec, platform: dict[str, str], blob_dir: Path, cache: LayerCache | None,
                compression: str, level: int, notes: tuple[str, ...] = ()) -> Base:
    # files=None: the path list is read from the layer only if a dynamic binary needs checking, so a cache
    # hit never reads the 600 zoneinfo files.
    image = static_image(spec, platform, blob_dir, cache, compression, level)
    return Base(f"slimgo/{spec.name}", image.layers, image.config, image.digest, None, notes)


def resolve_embedded(name: str, platform: dict[str, str], blob_dir: Path, cache: LayerCache | None,
                     compression: str, level: int, spec: static.StaticBaseSpec | None = None,
                     notes: tuple[str, ...] = ()) -> Base:
    if name == "scratch":
        return Base("scratch", (), scratch_config(platform), "", frozenset())
    if name in ("static", "static-full"):
        chosen = static.StaticBaseSpec() if name == "static-full" or spec is None else spec
        return static_base(chosen, platform, blob_dir, cache, compression, level, notes)
    raise BadInput(f"unknown base {name!r} (embedded bases: {', '.join(EMBEDDED)})")
