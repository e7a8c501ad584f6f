"""Bases from elsewhere: a registry reference, `oci:DIR[:tag]`, `docker-archive:FILE`,
`docker-daemon:NAME`.

The base's layers are reused byte-for-byte (never recompressed): each blob enters the content-addressed
cache through its verifying reader (digest, declared size), and its tar is checked against the config's
diff_id, which is also what checks a Docker `manifest.json` archive (layers named by path).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..errors import BadInput, ImageFormatError
from ..limits import MAX_DOCUMENT, MAX_LAYERS
from ..oci import document
from ..oci.cache import BlobFacts, LayerCache
from ..oci.digest import Digest, read_verified
from ..oci.mediatypes import INDEXES, OCI_LAYER_TAR
from ..oci.model import Descriptor, Layer
from ..oci.reference import Reference
from ..oci.transports import is_local
from ..platform import Platform
from ..registry.client import Registry
from ..sources.local import SourceImage, SourceLayer, open_image
from .model import Base


def _checked_layer(cache: LayerCache, facts: BlobFacts, diff_id: str, media: str, name: str, origin: str = "") -> Layer:
    """A cached base layer, once its tar matches the diff_id the config promises (this is also what
    checks a Docker manifest.json archive, whose layers are named by path)."""
    if facts.diff_id != diff_id:
        raise ImageFormatError(f"{name}: layer {facts.digest} decompresses to {facts.diff_id}, "
                               f"but the config says {diff_id}")
    return Layer(Descriptor(media or OCI_LAYER_TAR, str(facts.digest), facts.size), diff_id,
                 facts.uncompressed_size, cache.blob_path(facts.digest), comment=f"base {name}", origin=origin)


def _materialise(cache: LayerCache, layer: SourceLayer) -> BlobFacts:
    """The layer's blob in the cache, verified (digest, declared size) while it is copied."""
    expected = Digest.parse(layer.digest, "layer") if layer.digest else None
    if expected is not None:
        facts = cache.verified(expected, layer.size)
        if facts is not None:
            return facts
    with layer.open() as src:
        return cache.ingest(expected, layer.size, src, what=f"base layer {layer.label}")


def _base_from_source(img: SourceImage, cache: LayerCache, name: str) -> Base:
    layers = [_checked_layer(cache, _materialise(cache, src), src.diff_id, src.media_type, name) for src in img.layers]
    return Base(name, tuple(layers), img.config, img.manifest_digest, None)


def resolve(spec: str, platforms: list[Platform] | None, cache: LayerCache, registry_for: Any) -> list[Base]:
    """Bases for the wanted platforms (None: every platform the base offers), in that order."""
    with tempfile.TemporaryDirectory(prefix="slimgo-base-") as tmp:
        if is_local(spec):
            offered = {img.platform: img for img in open_image(spec, Path(tmp))}
            return [_base_from_source(offered[p], cache, spec) for p in _choose(spec, offered, platforms)]
        return _resolve_registry(spec, platforms, cache, registry_for)


def _choose(spec: str, offered: dict[Platform, Any], platforms: list[Platform] | None) -> list[Platform]:
    if platforms is None:
        return sorted(offered)
    chosen = []
    for want in platforms:
        found = next((p for p in offered if p.satisfies(want)), None)
        if found is None:
            keys = ", ".join(sorted(p.key for p in offered)) or "none"
            raise BadInput(f"platform {want} is not in base {spec} (it offers {keys})")
        chosen.append(found)
    return chosen


def _resolve_registry(spec: str, platforms: list[Platform] | None, cache: LayerCache, registry_for: Any) -> list[Base]:
    ref = Reference.parse(spec)
    reg: Registry = registry_for(ref.registry)
    where = f"{ref.registry}/{ref.repository}"
    body, media, digest = reg.get_manifest(ref.repository, ref.digest or ref.tag)
    doc = document.load_object(body, f"{where}: manifest")
    if media in INDEXES or "manifests" in doc:
        manifests: dict[Platform, document.Desc] = {}
        for desc in document.descriptors(doc, "manifests", f"{where}: index"):
            offered = Platform.from_oci(desc.platform)
            if offered.key and offered.os != "unknown":
                manifests.setdefault(offered, desc)
        chosen = _choose(spec, manifests, platforms)
        digests = [str(manifests[k].digest) for k in chosen]
    else:
        digests = [digest]
    bases = []
    for d in digests:
        mbody, _, mdigest = reg.get_manifest(ref.repository, d)
        what = f"{where}@{mdigest}"
        manifest = document.load_object(mbody, what)
        cfg = document.descriptor(manifest.get("config"), f"{what} config")
        if cfg.size > MAX_DOCUMENT:
            raise ImageFormatError(f"{what}: config declares {cfg.size} bytes, larger than the limit of {MAX_DOCUMENT}")
        with reg.open_blob(ref.repository, cfg.digest) as fh:
            config = document.load_object(read_verified(fh, cfg.digest, size=cfg.size, what=f"config {cfg.digest}"),
                                          f"config {cfg.digest}")
        found = Platform.from_oci(config)
        if platforms is not None and len(digests) == 1 and not any(found.satisfies(p) for p in platforms):
            raise BadInput(f"platform {platforms[0]} is not in base {spec} (it is {found})")
        descs = document.descriptors(manifest, "layers", what)
        diff_ids = document.diff_ids(config, f"config {cfg.digest}")
        if len(descs) > MAX_LAYERS or len(diff_ids) != len(descs):
            raise ImageFormatError(f"{what}: {len(descs)} layers for {len(diff_ids)} diff_ids in the config")
        layers = []
        for desc, diff_id in zip(descs, diff_ids):
            facts = cache.verified(desc.digest, desc.size)
            if facts is None:
                with reg.open_blob(ref.repository, desc.digest) as fh:
                    facts = cache.ingest(desc.digest, desc.size, fh, what=f"{where}: blob {desc.digest}")
            layers.append(_checked_layer(cache, facts, str(diff_id), desc.media_type, str(ref), origin=where))
        bases.append(Base(str(ref), tuple(layers), config, mdigest, None))
    return bases
