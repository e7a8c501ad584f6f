"""An image reference to the SourceImage to scan, through the image sources slimgo already has:
`oci:DIR[:tag]` and `docker-archive:FILE` are streamed in place, `docker-daemon:NAME` is saved from the
engine into a temporary directory first (sources/local.py), and a registry reference is fetched into the
content-addressed cache by base/remote.py, which verifies every blob."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import IO, Any

from ..base.remote import _choose
from ..base.remote import resolve as resolve_remote
from ..errors import BadInput
from ..oci.transports import is_local
from ..platform import Platform
from ..sources.local import SourceImage, SourceLayer, open_image

DEFAULT_PLATFORM = "linux/amd64"


def _pick(spec: str, images: list[SourceImage], platform: Platform | None) -> SourceImage:
    if len(images) == 1 and platform is None:
        return images[0]
    offered = {img.platform: img for img in images}
    if not offered:
        raise BadInput(f"{spec}: no image in it")
    if platform is None:
        default = Platform.parse(DEFAULT_PLATFORM)
        found = next((p for p in offered if p.satisfies(default)), None)
        if found is None:
            raise BadInput(f"{spec}: holds {', '.join(sorted(p.key for p in offered))}; choose one with --platform")
        return offered[found]
    return offered[_choose(spec, offered, [platform])[0]]


@contextlib.contextmanager
def open_ref(spec: str, platform: Platform | None) -> Iterator[SourceImage]:
    """The image to inspect; temporary files (a saved daemon image) live until the block ends."""
    if is_local(spec):
        with tempfile.TemporaryDirectory(prefix="slimgo-inspect-") as tmp:
            yield _pick(spec, open_image(spec, Path(tmp)), platform)
        return
    from ..fsutil import user_cache_dir
    from ..oci.cache import LayerCache
    from ..registries import RegistryPool

    bases = resolve_remote(spec, [platform or Platform.parse(DEFAULT_PLATFORM)], LayerCache(user_cache_dir()),
                           RegistryPool())
    b = bases[0]
    layers = tuple(SourceLayer(layer.digest, layer.descriptor.media_type, layer.size, partial(_open_blob, layer.path))
                   for layer in b.layers)
    yield SourceImage(spec, b.platform, b.config, layers, b.digest)


def _open_blob(path: Path) -> IO[bytes]:
    return open(path, "rb")


def labels(config: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((config.get("config") or {}).get("Labels") or {}).items()}
