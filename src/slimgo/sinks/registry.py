"""Push an image or index to a registry: blobs first (HEAD, mount, upload; in parallel), then child
manifests by digest, then the top manifest by tag. A manifest never names a blob that is not there."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from io import BytesIO

from ..oci.model import Image, Index, Layer
from ..oci.reference import Reference
from ..registry.client import Registry
from .content import Published

PARALLEL_UPLOADS = 4


def _push_layer(reg: Registry, repo: str, layer: Layer) -> str:
    mount_from = None
    if layer.origin:
        host, _, src_repo = layer.origin.partition("/")
        if host == reg.host:
            mount_from = src_repo
    return reg.push_blob(repo, layer.digest, layer.size, lambda: open(layer.path, "rb"), mount_from)


def _push_image_blobs(reg: Registry, repo: str, images: tuple[Image, ...]) -> None:
    layers: dict[str, Layer] = {}
    for img in images:
        for layer in img.layers:
            layers.setdefault(layer.digest, layer)
    with ThreadPoolExecutor(max_workers=PARALLEL_UPLOADS) as pool:
        futures = [pool.submit(_push_layer, reg, repo, layer) for layer in layers.values()]
        for img in images:
            cfg = img.config_descriptor
            data = img.config_bytes
            futures.append(pool.submit(reg.push_blob, repo, cfg.digest, cfg.size,
                                       partial(BytesIO, data)))
        for f in futures:
            f.result()


def push(pub: Published, reg: Registry, refs: tuple[Reference, ...]) -> list[str]:
    """Push to every ref (same registry); returns NAME@DIGEST per ref."""
    out = []
    for ref in refs:
        repo = ref.repository
        _push_image_blobs(reg, repo, pub.images)
        tag = ref.tag or "latest"
        if isinstance(pub.artifact, Index):
            for img in pub.images:
                reg.put_manifest(repo, img.digest, img.manifest_bytes, img.manifest_media_type)
            reg.put_manifest(repo, tag, pub.artifact.manifest_bytes, "application/vnd.oci.image.index.v1+json")
        else:
            img = pub.artifact
            reg.put_manifest(repo, tag, img.manifest_bytes, img.manifest_media_type)
        out.append(f"{ref.short_name}@{pub.digest}")
    return out
