"""SPDX 2.3 JSON for one platform image, from its Inventory.

The namespace is a function of the image digest and `created` is SOURCE_DATE_EPOCH (or the Unix epoch),
so the same build gives a byte-identical document.
"""

from __future__ import annotations

import re
from typing import Any

from .. import __version__
from ..oci.model import canonical_json
from .inventory import DEVEL, GoModule, Inventory

MEDIA_TYPE = "application/spdx+json"
NAMESPACE = "https://slimgo.dev/spdx"


def _spdx_id(i: int, name: str) -> str:
    return f"SPDXRef-Package-{i}-" + re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-")


def _purl_ref(purl: str) -> list[dict[str, str]]:
    return [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]


def _package(spdx_id: str, name: str, version: str, purpose: str, purl: str = "", sha256: str = "",
             comment: str = "") -> dict[str, Any]:
    pkg: dict[str, Any] = {"SPDXID": spdx_id, "name": name, "versionInfo": version or "NOASSERTION",
                           "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
                           "primaryPackagePurpose": purpose, "supplier": "NOASSERTION"}
    if purl:
        pkg["externalRefs"] = _purl_ref(purl)
    if sha256:
        pkg["checksums"] = [{"algorithm": "SHA256", "checksumValue": sha256}]
    if comment:
        pkg["comment"] = comment
    return pkg


def _module(spdx_id: str, mod: GoModule, purpose: str) -> dict[str, Any]:
    return _package(spdx_id, mod.path, mod.version if mod.version != DEVEL else DEVEL, purpose, mod.purl, mod.sha256)


def render(inv: Inventory, created: str) -> bytes:
    image_id, main_id = "SPDXRef-Image", "SPDXRef-Main"
    packages = [
        _package(image_id, inv.image_name, inv.image_digest, "CONTAINER", inv.image_purl, inv.image_hex,
                 f"{inv.platform} image of {inv.binary}"),
        _module(main_id, inv.main, "APPLICATION"),
    ]
    rels = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": image_id},
            {"spdxElementId": image_id, "relationshipType": "CONTAINS", "relatedSpdxElement": main_id}]
    n = 0
    for mod, purpose in [(inv.toolchain, "LIBRARY"), *((d, "LIBRARY") for d in inv.deps)]:
        n += 1
        pid = _spdx_id(n, mod.path)
        packages.append(_module(pid, mod, purpose))
        rels.append({"spdxElementId": main_id, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": pid})
    for comp in inv.base:
        n += 1
        pid = _spdx_id(n, comp.name)
        packages.append(_package(pid, comp.name, comp.version, "CONTAINER" if comp.image else "OTHER", comp.purl,
                                 comp.sha256, comp.comment))
        rels.append({"spdxElementId": image_id, "relationshipType": "DESCENDANT_OF" if comp.image else "CONTAINS",
                     "relatedSpdxElement": pid})
    annotations = [{"annotator": f"Tool: slimgo-{__version__}", "annotationDate": created, "annotationType": "OTHER",
                    "comment": f"go build setting {k}={v}"} for k, v in inv.settings]
    if annotations:
        packages[1]["annotations"] = annotations
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{inv.image_name}@{inv.image_digest}",
        "documentNamespace": f"{NAMESPACE}/{inv.image_hex}/{inv.stable_uuid('spdx')}",
        "creationInfo": {"created": created, "creators": [f"Tool: slimgo-{__version__}"]},
        "packages": packages,
        "relationships": rels,
    }
    return canonical_json(doc)
