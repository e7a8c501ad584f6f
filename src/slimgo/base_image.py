"""`slimgo base push`: the embedded static base as an image of its own, multi-platform."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from .base.resolve import static_image
from .base.static import StaticBaseSpec
from .fsutil import check_writable, user_cache_dir
from .oci.cache import LayerCache
from .oci.model import make_index
from .oci.reference import Reference
from .platform import Platform
from .registry.auth import CredentialSource
from .registry.client import PushStats, Registry
from .sinks import registry as registry_sink
from .sinks.archive import write_archive
from .sinks.content import Published
from .sinks.layout import write_layout

VARIANTS = {"full": StaticBaseSpec(), "ca": StaticBaseSpec(zoneinfo=False), "tz": StaticBaseSpec(ca_roots=False),
            "minimal": StaticBaseSpec(False, False)}


def publish_base(ref: str | None, variant: str, platforms: list[str], oci_layout: Path | None,
                 tarball: Path | None, insecure: list[str], credentials: CredentialSource,
                 local_tag: str | None = None) -> dict[str, Any]:
    spec = VARIANTS[variant]
    plats = [Platform.parse(p) for p in platforms]
    refs = (Reference.parse(ref),) if ref else ()
    for path, is_dir in ((oci_layout, True), (tarball, False)):
        if path is not None:
            check_writable(path, directory=is_dir)
    cache = LayerCache(user_cache_dir())
    with tempfile.TemporaryDirectory(prefix="slimgo-base-") as tmp:
        images = []
        for p in plats:
            images.append(static_image(spec, p.oci(), Path(tmp), cache, "gzip", 6))
        artifact = images[0] if len(images) == 1 else make_index(images)
        local = (Reference.parse(local_tag),) if local_tag else refs or (Reference.parse(f"slimgo/{spec.name}"),)
        pub = Published(artifact, local)
        out: dict[str, Any] = {"schema_version": 1, "digest": pub.digest, "variant": spec.name, "refs": [],
                               "platforms": [str(p) for p in plats]}
        if oci_layout:
            write_layout(oci_layout, pub)
            out["oci_layout"] = str(oci_layout)
        if tarball:
            write_archive(tarball, pub, plats[0].arch)
            out["tarball"] = str(tarball)
        if refs:
            stats = PushStats()
            reg = Registry(refs[0].registry, insecure=refs[0].registry in insecure, credentials=credentials,
                           stats=stats)
            out["refs"] = registry_sink.push(Published(artifact, refs), reg, refs)
            out["push"] = stats.to_json()
    return out
