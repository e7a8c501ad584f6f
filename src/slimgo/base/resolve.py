"""Turn `--base NAME` into a Base for one platform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..oci.cache import LayerCache
from ..oci.layer import with_parents, write_layer
from ..oci.model import make_image
from . import static
from .model import Base

EMBEDDED = ("static", "static-full", "scratch")
# What `--platform all` means on an embedded base: it is data only, so every platform Go targets on Linux.
ALL_PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x",
                 "linux/riscv64")


def scratch_config(platform: dict[str, str]) -> dict[str, Any]:
    return {**platform, "created": "1970-01-01T00:00:00Z",
            "config": {"Env": [static.PATH_ENV]}, "rootfs": {"type": "layers", "diff_ids": []},
            "history": []}


def static_base(spec: static.StaticBaseSpec, platform: dict[str, str], blob_dir: Path, cache: LayerCache | None,
                compression: str, level: int, notes: tuple[str, ...] = ()) -> Base:
    key = f"{static.cache_key(spec)}-{compression}-{level}"
    layer = cache.get(key) if cache else None
    if layer is None:
        layer = write_layer(static.entries(spec), blob_dir, compression=compression, level=level,
                            comment=f"slimgo {spec.name} base")
        if cache:
            layer = cache.put(key, layer)
    cfg = static.config(spec, platform)
    image = make_image(cfg, [layer], _no_overrides(platform), [])
    files = frozenset("/" + e.path for e in with_parents(static.entries(spec)))
    return Base(f"slimgo/{spec.name}", (layer,), image.config, image.digest, files, notes)


def _no_overrides(platform: dict[str, str]):  # type: ignore[no-untyped-def]
    from ..oci.model import ImageConfig

    return ImageConfig(platform=platform, created="1970-01-01T00:00:00Z")


def resolve_embedded(name: str, platform: dict[str, str], blob_dir: Path, cache: LayerCache | None,
                     compression: str, level: int, spec: static.StaticBaseSpec | None = None,
                     notes: tuple[str, ...] = ()) -> Base:
    if name == "scratch":
        return Base("scratch", (), scratch_config(platform), "", frozenset())
    if name in ("static", "static-full"):
        chosen = static.StaticBaseSpec() if name == "static-full" or spec is None else spec
        return static_base(chosen, platform, blob_dir, cache, compression, level, notes)
    raise BadInput(f"unknown base {name!r} (embedded bases: {', '.join(EMBEDDED)})")
