"""CycloneDX 1.6 JSON for one platform image, from its Inventory.

The serial number is derived from the image digest; a timestamp is written only when SOURCE_DATE_EPOCH
gives one (CycloneDX makes it optional), so the same build gives a byte-identical document.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..oci.model import canonical_json
from .inventory import GoModule, Inventory

MEDIA_TYPE = "application/vnd.cyclonedx+json"


def _component(ref: str, kind: str, name: str, version: str, purl: str, sha256: str = "",
               description: str = "") -> dict[str, Any]:
    comp: dict[str, Any] = {"bom-ref": ref, "type": kind, "name": name, "version": version}
    if purl:
        comp["purl"] = purl
    if sha256:
        comp["hashes"] = [{"alg": "SHA-256", "content": sha256}]
    if description:
        comp["description"] = description
    return comp


def _module(ref: str, mod: GoModule, kind: str) -> dict[str, Any]:
    return _component(ref, kind, mod.path, mod.version, mod.purl, mod.sha256)


def render(inv: Inventory, created: str | None) -> bytes:
    image_ref, main_ref = "image", "main"
    main = _module(main_ref, inv.main, "application")
    if inv.settings:
        main["properties"] = [{"name": f"slimgo:go:build:{k}", "value": v} for k, v in inv.settings]
    components = [main]
    dep_refs = []
    for i, mod in enumerate([inv.toolchain, *inv.deps], start=1):
        ref = f"go-{i}:{mod.purl}"
        dep_refs.append(ref)
        components.append(_module(ref, mod, "library"))
    base_refs = []
    for i, comp in enumerate(inv.base, start=1):
        ref = f"base-{i}:{comp.purl}"
        base_refs.append(ref)
        components.append(_component(ref, "container" if comp.image else "data", comp.name, comp.version,
                                     comp.purl, comp.sha256, comp.comment))
    metadata: dict[str, Any] = {
        "tools": {"components": [{"type": "application", "name": "slimgo", "version": __version__}]},
        "component": _component(image_ref, "container", inv.image_name, inv.image_digest, inv.image_purl,
                                inv.image_hex, f"{inv.platform} image of {inv.binary}"),
    }
    if created is not None:
        metadata["timestamp"] = created
    doc = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{inv.stable_uuid('cyclonedx')}",
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": [{"ref": image_ref, "dependsOn": [main_ref, *base_refs]},
                         {"ref": main_ref, "dependsOn": dep_refs},
                         *({"ref": r, "dependsOn": []} for r in [*dep_refs, *base_refs])],
    }
    return canonical_json(doc)
