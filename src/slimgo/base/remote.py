"""Bases from elsewhere: a registry reference, `oci:DIR[:tag]`, `docker-archive:FILE`,
`docker-daemon:NAME`.

The base's layers are reused byte-for-byte (never recompressed): each blob is materialised once into
the content-addressed cache, verified against its digest, and referenced from there.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from ..errors import BadInput, ImageFormatError
from ..oci.cache import LayerCache
from ..oci.digest import DigestingReader
from ..oci.mediatypes import INDEXES, OCI_LAYER_TAR
from ..oci.model import Descriptor, Layer
from ..oci.reference import Reference
from ..oci.transports import is_local
from ..oci.views import ConfigView, ManifestView
from ..platform import Platform
from ..registry.client import Registry
from ..sources.local import SourceImage, SourceLayer, open_image
from .model import Base


def _materialise(cache: LayerCache, layer: SourceLayer) -> tuple[Path, str, int]:
    """Copy a layer blob into the cache; returns (path, digest, size). The source's reader verifies
    digest-named blobs while copying; Docker's manifest.json archives name layers by path, so their digest
    is computed on the way."""
    if layer.digest.startswith("sha256:"):
        dest = cache.blob_path(layer.digest)
        if dest.exists() and dest.stat().st_size == layer.size:
            return dest, layer.digest, layer.size
    dest_dir = cache.root / "blobs" / "sha256"
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest_dir, delete=False, suffix=".part") as tmp, layer.open() as src:
        reader = src if isinstance(src, DigestingReader) else DigestingReader(src, what=f"layer {layer.digest}")
        try:
            digest = str(reader.drain(tmp))
        except ImageFormatError:
            Path(tmp.name).unlink()
            raise
    final = cache.blob_path(digest)
    Path(tmp.name).replace(final)
    return final, digest, final.stat().st_size


def _base_from_source(img: SourceImage, cache: LayerCache, name: str) -> Base:
    diff_ids = ConfigView(img.config).diff_ids
    if len(diff_ids) != len(img.layers):
        raise ImageFormatError(f"{name}: config lists {len(diff_ids)} diff_ids for {len(img.layers)} layers")
    layers = []
    for src, diff_id in zip(img.layers, diff_ids):
        path, digest, size = _materialise(cache, src)
        media = src.media_type or OCI_LAYER_TAR
        layers.append(Layer(Descriptor(media, digest, size), diff_id, uncompressed_size(path), path,
                            comment=f"base {name}"))
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
    body, media, digest = reg.get_manifest(ref.repository, ref.digest or ref.tag)
    doc = json.loads(body)
    manifests: dict[Platform, str] = {}
    if media in INDEXES or doc.get("manifests"):
        for m in doc.get("manifests") or []:
            offered = Platform.from_oci(m.get("platform") or {})
            if offered.key and offered.os != "unknown":
                manifests.setdefault(offered, m["digest"])
        chosen = _choose(spec, manifests, platforms)
        digests = [manifests[k] for k in chosen]
    else:
        digests = [digest]
    bases = []
    for d in digests:
        mbody, _, mdigest = reg.get_manifest(ref.repository, d)
        manifest = ManifestView(json.loads(mbody))
        cfg_digest = manifest.config["digest"]
        cfg_path = reg.get_blob(ref.repository, cfg_digest, cache.blob_path(cfg_digest))
        config = json.loads(cfg_path.read_bytes())
        offered = Platform.from_oci(config)
        if platforms is not None and len(digests) == 1 and not any(offered.satisfies(p) for p in platforms):
            raise BadInput(f"platform {platforms[0]} is not in base {spec} (it is {offered})")
        diff_ids = ConfigView(config).diff_ids
        layers = []
        for desc, diff_id in zip(manifest.layers, diff_ids):
            path = cache.blob_path(desc["digest"])
            if not (path.exists() and path.stat().st_size == int(desc["size"])):
                reg.get_blob(ref.repository, desc["digest"], path)
            layers.append(Layer(Descriptor(desc["mediaType"], desc["digest"], int(desc["size"])), diff_id,
                                uncompressed_size(path), path, comment=f"base {ref}", origin=f"{ref.registry}/{ref.repository}"))
        bases.append(Base(str(ref), tuple(layers), config, mdigest, None))
    return bases


def uncompressed_size(path: Path) -> int:
    """Size of a layer's tar, measured by decompressing it once; remembered beside the blob."""
    memo = path.with_name(path.name + ".usize")
    try:
        return int(memo.read_text())
    except (OSError, ValueError):
        pass
    from ..sources.files import decompressed_stream

    total = 0
    with decompressed_stream(lambda: open(path, "rb")) as fh:
        while chunk := fh.read(1 << 20):
            total += len(chunk)
    try:
        memo.write_text(str(total))
    except OSError:
        pass
    return total
