"""sign(plan, artifact, attachments) → Signing: what `--sign-key` signs, in cosign's format.

The image (the index too, and each of its platform images, as `cosign sign --recursive` does) gets a
signature; each SBOM and provenance attachment becomes a signed in-toto attestation about its platform image.
The sinks make the `.sig`/`.att` manifests per repository (the signature payload names it).
"""

from __future__ import annotations

import json

from ..oci.model import Image, Index
from ..supplychain import cyclonedx, provenance, spdx
from ..supplychain.attach import Attachment
from ..supplychain.sign import PREDICATE_CYCLONEDX, PREDICATE_SPDX, Signer, Signing, Statement, sbom_statement

SBOM_PREDICATES = {spdx.MEDIA_TYPE: PREDICATE_SPDX, cyclonedx.MEDIA_TYPE: PREDICATE_CYCLONEDX}


def statement(att: Attachment, subject_name: str) -> Statement:
    if att.artifact_type == provenance.MEDIA_TYPE:  # already an in-toto Statement about the image
        return Statement(att.subject.digest, str(json.loads(att.blob)["predicateType"]), att.blob)
    predicate = SBOM_PREDICATES[att.artifact_type]
    return Statement(att.subject.digest, predicate, sbom_statement(predicate, att.blob, subject_name,
                                                                   att.subject.digest))


def signing(signer: Signer | None, artifact: Image | Index, attachments: tuple[Attachment, ...],
            subject_name: str) -> Signing | None:
    if signer is None:
        return None
    subjects = (artifact.digest, *(img.digest for img in artifact.images)) if isinstance(artifact, Index) \
        else (artifact.digest,)
    return Signing(signer, subjects, tuple(statement(a, subject_name) for a in attachments))
