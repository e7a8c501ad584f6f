"""OCI 1.1 artifacts that refer to an image: a manifest with `artifactType`, the empty config, one blob, and
`subject` set to the image's manifest descriptor. The image itself is untouched (the artifact points at it).

Registries without the referrers API get the referrers tag schema: an index tagged `sha256-<hex>` of the
subject, listing every referrer's descriptor (OCI distribution spec v1.1, "referrers tag schema").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from ..oci.model import Descriptor, canonical_json, sha256

EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_BYTES = b"{}"
EMPTY = Descriptor(EMPTY_MEDIA_TYPE, sha256(EMPTY_BYTES), len(EMPTY_BYTES))


@dataclass(frozen=True)
class Attachment:
    artifact_type: str
    blob: bytes
    manifest_bytes: bytes
    subject: Descriptor

    @property
    def digest(self) -> str:
        return sha256(self.manifest_bytes)

    @property
    def blob_descriptor(self) -> Descriptor:
        return Descriptor(self.artifact_type, sha256(self.blob), len(self.blob))

    def descriptor(self) -> Descriptor:
        """As index.json and the referrers index list it: artifactType copied up from the manifest."""
        return Descriptor(OCI_MANIFEST, self.digest, len(self.manifest_bytes), artifact_type=self.artifact_type)


def attach(subject: Descriptor, artifact_type: str, blob: bytes) -> Attachment:
    blob_desc = Descriptor(artifact_type, sha256(blob), len(blob))
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {**EMPTY.to_json(), "data": "e30="},  # the spec's empty descriptor carries `{}` inline
        "layers": [blob_desc.to_json()],
        "subject": Descriptor(subject.media_type, subject.digest, subject.size).to_json(),
    }
    return Attachment(artifact_type, blob, canonical_json(manifest), subject)


def fallback_tag(subject_digest: str) -> str:
    algorithm, _, hexd = subject_digest.partition(":")
    return f"{algorithm}-{hexd}"


def referrers_index(existing: bytes | None, added: list[Descriptor]) -> bytes:
    """The fallback tag's index: what was there, plus `added` (a descriptor already listed is not repeated)."""
    manifests: list[dict[str, Any]] = []
    if existing:
        doc = json.loads(existing)
        manifests = [m for m in doc.get("manifests") or [] if isinstance(m, dict)]
    have = {m.get("digest") for m in manifests}
    manifests += [d.to_json() for d in added if d.digest not in have]
    return canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
