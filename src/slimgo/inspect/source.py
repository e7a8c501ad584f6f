"""An image reference to the SourceImage to scan, through the image sources slimgo already has:
`oci:DIR[:tag]` and `docker-archive:FILE` are streamed in place (sources/local.py); `docker-daemon:NAME`
is saved from the engine to a temporary archive first; a registry reference is fetched into the
content-addressed cache by base/remote.py, which verifies every blob."""

from __future__ import annotations

import contextlib
import tempfile
from functools import partial
from pathlib import Path
from typing import IO, Any, Iterator

from ..base.remote import _choose, _matches
from ..base.remote import resolve as resolve_remote
from ..errors import BadInput
from ..platform import Platform
from ..sources.local import SourceImage, SourceLayer, open_image

DEFAULT_PLATFORM = "linux/amd64"


def _registry(host: str):  # type: ignore[no-untyped-def]
    from ..registry.auth import CredentialSource
    from ..registry.client import Registry

    return Registry(host, credentials=CredentialSource())


def _pick(spec: str, images: list[SourceImage], platform: Platform | None) -> SourceImage:
    if len(images) == 1 and platform is None:
        return images[0]
    offered = {img.platform: img for img in images}
    if not offered:
        raise BadInput(f"{spec}: no image in it")
    if platform is None:
        default = Platform.parse(DEFAULT_PLATFORM)
        key = next((k for k in offered if _matches(k, default)), None)
        if key is None:
            raise BadInput(f"{spec}: holds {', '.join(sorted(offered))}; choose one with --platform")
        return offered[key]
    return offered[_choose(spec, offered, [platform])[0]]


@contextlib.contextmanager
def open_ref(spec: str, platform: Platform | None) -> Iterator[SourceImage]:
    """The image to inspect; temporary files (a saved daemon image) live until the block ends."""
    if spec.startswith(("oci:", "docker-archive:")):
        yield _pick(spec, open_image(spec), platform)
        return
    if spec.startswith("docker-daemon:"):
        from ..sinks.daemon import save_image

        with tempfile.TemporaryDirectory(prefix="slimgo-inspect-") as tmp:
            archive = save_image(spec[len("docker-daemon:"):], Path(tmp) / "image.tar")
            images = open_image(f"docker-archive:{archive}")
            yield _pick(spec, [SourceImage(spec, i.platform, i.config, i.layers, i.manifest_digest) for i in images],
                        platform)
        return
    from ..fsutil import user_cache_dir
    from ..oci.cache import LayerCache

    bases = resolve_remote(spec, [platform or Platform.parse(DEFAULT_PLATFORM)], LayerCache(user_cache_dir()),
                           _registry)
    b = bases[0]
    layers = tuple(SourceLayer(layer.digest, layer.descriptor.media_type, layer.size, partial(_open_blob, layer.path))
                   for layer in b.layers)
    yield SourceImage(spec, b.platform_key, b.config, layers, b.digest)


def _open_blob(path: Path) -> IO[bytes]:
    return open(path, "rb")


def labels(config: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((config.get("config") or {}).get("Labels") or {}).items()}
