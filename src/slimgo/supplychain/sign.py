"""cosign's signature format, written by slimgo: what `cosign verify --key` and `cosign verify-attestation`
read, with no cosign, Rekor or Fulcio involved.

- An image signature is a layer of an OCI manifest tagged `sha256-<hex of the image digest>.sig` beside the
  image: the blob is cosign's "simple signing" payload (the repository and the image digest), the signature
  (ECDSA, ASN.1 DER, base64) is the layer annotation `dev.cosignproject.cosign/signature`.
- An attestation is a DSSE envelope around an in-toto Statement (the provenance as built; each SBOM wrapped
  with cosign's predicate type), signed over DSSE's pre-authentication encoding, in a manifest tagged
  `sha256-<hex>.att`, one layer per statement, its `predicateType` annotated.

Signatures are deterministic (RFC 6979 nonces): the same key, payload and repository give byte-identical
`.sig` and `.att` manifests, so the build stays reproducible. Only the `.sig` payload names the repository,
so an image pushed to two repositories has two `.sig` manifests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ImageFormatError
from ..oci.digest import Digest, parse_size
from ..oci.mediatypes import OCI_MANIFEST
from ..oci.model import Descriptor, canonical_json, sha256
from ..oci.reference import DOCKER_HUB, Reference
from .attach import fallback_tag

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
INTOTO_PAYLOAD = "application/vnd.in-toto+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # what cosign's (go-containerregistry's) empty config says
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
# The predicate types `cosign attest --type spdxjson|cyclonedx|slsaprovenance1` write and `verify-attestation
# --type` looks for.
PREDICATE_SPDX = "https://spdx.dev/Document"
PREDICATE_CYCLONEDX = "https://cyclonedx.org/bom"
PREDICATE_SLSA1 = "https://slsa.dev/provenance/v1"
SIG, ATT = "sig", "att"
# `cosign save` marks a layout's entries with this annotation, and `cosign verify --local-image` reads it;
# readers of images skip the `.sig`/`.att` entries by it (they are manifests, but not images).
KIND_ANNOTATION = "kind"
KINDS = {SIG: "dev.cosignproject.cosign/sigs", ATT: "dev.cosignproject.cosign/atts"}
IMAGE_KIND, INDEX_KIND = "dev.cosignproject.cosign/image", "dev.cosignproject.cosign/imageIndex"
SIGNATURE_KINDS = frozenset(KINDS.values())


@dataclass(frozen=True)
class Signature:
    der: bytes
    certificate: str = ""  # PEM; a keyless signer's Fulcio certificate (the key signer has none)
    chain: str = ""

    def annotations(self) -> dict[str, str]:
        out = {}
        if self.certificate:
            out[CERTIFICATE_ANNOTATION] = self.certificate
        if self.chain:
            out[CHAIN_ANNOTATION] = self.chain
        return out


class Signer(Protocol):
    """Signs bytes. The key signer is the only one offline; a keyless one (Fulcio certificate, Rekor entry)
    would return its certificate with each signature."""

    def sign(self, payload: bytes) -> Signature: ...


@dataclass(frozen=True)
class KeySigner:
    """ECDSA P-256 over SHA-256 with deterministic nonces (RFC 6979), as cosign's key verifier expects."""

    key: Any  # cryptography's EllipticCurvePrivateKey

    def sign(self, payload: bytes) -> Signature:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return Signature(self.key.sign(payload, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return bytes(self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))


def docker_reference(ref: Reference) -> str:
    """The repository as cosign names it in the payload (go-containerregistry: Docker Hub is index.docker.io)."""
    registry = "index.docker.io" if ref.registry == DOCKER_HUB else ref.registry
    return f"{registry}/{ref.repository}"


def simple_signing(repository: str, digest: str) -> bytes:
    """cosign's payload, with its Go struct's key order (cosign parses it; the order is kept for sameness)."""
    doc = {"critical": {"identity": {"docker-reference": repository},
                        "image": {"docker-manifest-digest": digest},
                        "type": "cosign container image signature"},
           "optional": None}
    return json.dumps(doc, separators=(",", ":")).encode()


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is signed, so the type cannot be swapped."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def envelope(statement: bytes, signer: Signer) -> tuple[bytes, Signature]:
    sig = signer.sign(pae(INTOTO_PAYLOAD, statement))
    doc = {"payloadType": INTOTO_PAYLOAD, "payload": base64.b64encode(statement).decode(),
           "signatures": [{"keyid": "", "sig": base64.b64encode(sig.der).decode()}]}
    return json.dumps(doc, separators=(",", ":")).encode(), sig


def sbom_statement(predicate_type: str, sbom: bytes, subject_name: str, subject_digest: str) -> bytes:
    """An SBOM as cosign attests it: the document is the predicate of an in-toto Statement about the image."""
    algorithm, _, hexd = subject_digest.partition(":")
    return canonical_json({"_type": STATEMENT_V1, "predicateType": predicate_type,
                           "subject": [{"name": subject_name, "digest": {algorithm: hexd}}],
                           "predicate": json.loads(sbom)})


@dataclass(frozen=True)
class SignedLayer:
    blob: bytes
    media_type: str
    annotations: tuple[tuple[str, str], ...]

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, sha256(self.blob), len(self.blob), self.annotations)


@dataclass(frozen=True)
class CosignManifest:
    """One `sha256-<hex>.sig` or `.att` manifest: its layers (new ones carry their blob), config and manifest."""

    subject: str  # the signed manifest's digest
    kind: str  # SIG or ATT
    layers: tuple[Descriptor, ...]
    blobs: tuple[tuple[str, bytes], ...]  # (digest, bytes) of the layers this build made

    @property
    def tag(self) -> str:
        return f"{fallback_tag(self.subject)}.{self.kind}"

    @property
    def config_bytes(self) -> bytes:
        """An image config, as cosign writes it: the layers are uncompressed, so their digests are the diff_ids."""
        return canonical_json({"architecture": "", "config": {}, "created": GO_ZERO_TIME,
                               "history": [{"created": GO_ZERO_TIME} for _ in self.layers], "os": "",
                               "rootfs": {"diff_ids": [d.digest for d in self.layers], "type": "layers"}})

    @property
    def manifest_bytes(self) -> bytes:
        config = self.config_bytes
        return canonical_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": Descriptor(OCI_CONFIG, sha256(config), len(config)).to_json(),
                               "layers": [d.to_json() for d in self.layers]})

    @property
    def digest(self) -> str:
        return sha256(self.manifest_bytes)

    def merged(self, existing: bytes | None) -> CosignManifest:
        """Keep the signatures already under the tag (another key's, an earlier build's), adding ours once."""
        if not existing:
            return self
        try:
            doc = json.loads(existing)
            layers = doc.get("layers") if isinstance(doc, dict) else None
            old = [_signed_layer(d) for d in layers] if isinstance(layers, list) else []
        except (ValueError, RecursionError, ImageFormatError):
            return self  # not cosign's manifest (the registry's answer is untrusted): ours replaces it
        if not old:
            return self
        have = {(d.digest, d.annotations) for d in old}
        return CosignManifest(self.subject, self.kind,
                              (*old, *(d for d in self.layers if (d.digest, d.annotations) not in have)), self.blobs)


def _signed_layer(doc: object) -> Descriptor:
    """A layer of a `.sig`/`.att` manifest already in the registry, checked field by field: annotations
    that are not strings, a float size or a bad digest would otherwise crash the merge (exit 70)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("mediaType"), str):
        raise ImageFormatError("signature layer: not a descriptor")
    annotations = doc.get("annotations") or {}
    if not isinstance(annotations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()):
        raise ImageFormatError("signature layer: annotations must map strings to strings")
    return Descriptor(doc["mediaType"], str(Digest.parse(doc.get("digest"), "signature layer")),
                      parse_size(doc.get("size"), "signature layer"), tuple(sorted(annotations.items())))


def _manifest(subject: str, kind: str, layers: Sequence[SignedLayer]) -> CosignManifest:
    return CosignManifest(subject, kind, tuple(x.descriptor() for x in layers),
                          tuple((sha256(x.blob), x.blob) for x in layers))


@dataclass(frozen=True)
class Statement:
    subject: str  # the image manifest digest it is about
    predicate_type: str
    body: bytes  # the in-toto Statement JSON


@dataclass(frozen=True)
class Signing:
    """What a build signs: the subjects (the pushed artifact and, for an index, each platform image) and the
    statements to attest. The `.sig` payload names the repository, so manifests are made per repository."""

    signer: Signer
    subjects: tuple[str, ...]
    statements: tuple[Statement, ...]

    def manifests(self, repository: str) -> tuple[CosignManifest, ...]:
        out = []
        for subject in self.subjects:
            payload = simple_signing(repository, subject)
            sig = self.signer.sign(payload)
            ann = {SIGNATURE_ANNOTATION: base64.b64encode(sig.der).decode(), **sig.annotations()}
            out.append(_manifest(subject, SIG, [SignedLayer(payload, SIMPLE_SIGNING, tuple(sorted(ann.items())))]))
        by_subject: dict[str, list[SignedLayer]] = {}
        for st in self.statements:
            blob, sig = envelope(st.body, self.signer)
            ann = {SIGNATURE_ANNOTATION: "", "predicateType": st.predicate_type, **sig.annotations()}
            by_subject.setdefault(st.subject, []).append(SignedLayer(blob, DSSE_ENVELOPE, tuple(sorted(ann.items()))))
        out += [_manifest(subject, ATT, layers) for subject, layers in by_subject.items()]
        return tuple(out)
