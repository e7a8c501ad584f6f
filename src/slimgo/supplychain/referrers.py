"""Find the artifacts that refer to an image (OCI 1.1 `subject`) in a layout, an archive or a registry.

Layouts and archives list referrers in index.json (untagged, with `artifactType`). Registries answer the
referrers API, or, without it, hold the `sha256-<hex>` fallback tag. Every manifest and blob read is
bounded in size and checked against its digest: the image and its store are untrusted.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import BadInput, CheckFailed, ImageFormatError
from ..oci import transports
from ..oci.mediatypes import INDEXES
from ..platform import Platform
from .attach import fallback_tag
from .sign import KIND_ANNOTATION, SIGNATURE_KINDS

REF_NAME = "org.opencontainers.image.ref.name"
MAX_JSON = 4 << 20  # manifests and indexes
MAX_DOCUMENT = 64 << 20  # an SBOM of tens of thousands of packages is still far below this

Reader = Callable[[str, int], bytes]  # (digest, limit) → verified bytes


@dataclass(frozen=True)
class Store:
    """Where manifests and blobs are read (a registry keeps them apart; a layout does not)."""

    manifest: Callable[[str], bytes]
    blob: Reader


@dataclass(frozen=True)
class Referrer:
    artifact_type: str
    digest: str
    subject: str
    read: Callable[[], bytes]  # the artifact's first blob (the document), verified


def _checked(data: bytes, digest: str, what: str) -> bytes:
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise ImageFormatError(f"{what}: {digest} failed its digest check")
    return data


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError:
        raise ImageFormatError(f"{what}: not JSON") from None
    if not isinstance(doc, dict):
        raise ImageFormatError(f"{what}: not a JSON object")
    return doc


def _pick(manifests: list[dict[str, Any]], platform: Platform | None, what: str) -> dict[str, Any]:
    """From an image index: the wanted platform's manifest, else the first."""
    if platform is None:
        return manifests[0]
    for m in manifests:
        p = m.get("platform") or {}
        if p.get("os") == platform.os and p.get("architecture") == platform.arch and \
                (not platform.variant or p.get("variant") == platform.variant):
            return m
    offered = sorted({"/".join(str(v) for v in (p.get("os"), p.get("architecture"), p.get("variant")) if v)
                      for m in manifests if isinstance(p := m.get("platform"), dict)})
    raise BadInput(f"{what}: no {platform} image (it has {', '.join(offered) or 'no platform-tagged image'})")


def _subject_digest(top: dict[str, Any], tag: str | None, store: Store, platform: Platform | None, what: str) -> str:
    """The image manifest the referrers name: the tagged (or first) image entry, down through an index."""
    entries = [m for m in top.get("manifests") or [] if isinstance(m, dict) and not m.get("artifactType")
               and (m.get("annotations") or {}).get(KIND_ANNOTATION) not in SIGNATURE_KINDS]
    if tag is not None:
        entries = [m for m in entries if (m.get("annotations") or {}).get(REF_NAME) == tag]
    if not entries:
        raise BadInput(f"{what}: no image" + (f" tagged {tag!r}" if tag else ""))
    desc = entries[0]
    while desc.get("mediaType") in INDEXES:
        index = _json(store.manifest(str(desc["digest"])), what)
        desc = _pick([m for m in index.get("manifests") or [] if isinstance(m, dict)], platform, what)
    return str(desc["digest"])


def _referrers_in(listing: list[dict[str, Any]], subject: str, store: Store, what: str) -> list[Referrer]:
    out = []
    for desc in listing:
        if not isinstance(desc, dict) or not desc.get("artifactType"):
            continue
        digest = str(desc.get("digest", ""))
        manifest = _json(store.manifest(digest), what)
        if (manifest.get("subject") or {}).get("digest") != subject or not manifest.get("layers"):
            continue
        blob = manifest["layers"][0]
        if int(blob.get("size", 0)) > MAX_DOCUMENT:
            raise ImageFormatError(f"{what}: artifact {digest} is larger than {MAX_DOCUMENT >> 20} MiB")
        out.append(Referrer(str(manifest.get("artifactType") or desc["artifactType"]), digest, subject,
                            partial(store.blob, str(blob["digest"]), MAX_DOCUMENT)))
    return out


def _local(spec: transports.ImageSpec) -> tuple[dict[str, Any], str | None, Store]:
    if spec.transport is transports.OCI_LAYOUT:
        body, tag = spec.rest, None
        if ":" in body and not Path(body).exists():
            body, tag = body.rsplit(":", 1)
        root = Path(body)
        if not (root / "index.json").is_file():
            raise BadInput(f"{spec.text}: not an OCI image layout (no index.json)")

        def read_file(digest: str, limit: int) -> bytes:
            path = root / "blobs" / "sha256" / digest.partition(":")[2]
            if not digest.startswith("sha256:") or not path.is_file():
                raise ImageFormatError(f"{spec.text}: blob {digest} missing")
            if path.stat().st_size > limit:
                raise ImageFormatError(f"{spec.text}: blob {digest} is larger than {limit >> 20} MiB")
            return _checked(path.read_bytes(), digest, spec.text)

        return _json((root / "index.json").read_bytes()[:MAX_JSON], spec.text), tag, _store(read_file)
    path = Path(spec.rest)
    if not path.is_file():
        raise BadInput(f"{spec.text}: no such file")
    try:
        with tarfile.open(path) as tar:
            members = {m.name.lstrip("./"): m for m in tar.getmembers() if m.isfile()}
    except tarfile.TarError:
        raise BadInput(f"{spec.text}: not a tar archive") from None

    def member(name: str, limit: int) -> bytes:
        m = members.get(name)
        if m is None:
            raise ImageFormatError(f"{spec.text}: {name} missing")
        if m.size > limit:
            raise ImageFormatError(f"{spec.text}: {name} is larger than {limit >> 20} MiB")
        with tarfile.open(path) as tar:
            fh = tar.extractfile(m)
            return fh.read() if fh else b""

    def read_member(digest: str, limit: int) -> bytes:
        return _checked(member(f"blobs/sha256/{digest.partition(':')[2]}", limit), digest, spec.text)

    if "index.json" not in members:
        raise CheckFailed(f"{spec.text}: a Docker-only archive (no index.json) carries no referrers")
    return _json(member("index.json", MAX_JSON), spec.text), None, _store(read_member)


def _store(read: Reader) -> Store:
    return Store(lambda digest: read(digest, MAX_JSON), read)


def local_referrers(text: str, platform: Platform | None = None) -> list[Referrer]:
    return _local_found(text, platform)[1]


def _local_found(text: str, platform: Platform | None) -> tuple[str, list[Referrer], set[str]]:
    """The subject digest, its referrers, and the layout's tag names (cosign's `.sig`/`.att` are tags there)."""
    spec = transports.split(text)
    if spec.transport not in (transports.OCI_LAYOUT, transports.DOCKER_ARCHIVE):
        raise BadInput(f"{text}: expected {transports.OCI_LAYOUT.syntax}, {transports.DOCKER_ARCHIVE.syntax} "
                       "or a registry reference")
    top, tag, store = _local(spec)
    subject = _subject_digest(top, tag, store, platform, text)
    listing = [m for m in top.get("manifests") or [] if isinstance(m, dict)]
    names = {str((m.get("annotations") or {}).get(REF_NAME)) for m in listing}
    return subject, _referrers_in(listing, subject, store, text), names


def registry_referrers(text: str, registry_for: Any, platform: Platform | None = None) -> list[Referrer]:
    return _registry(text, registry_for, platform)[1]


def _registry(text: str, registry_for: Any, platform: Platform | None) -> tuple[str, list[Referrer]]:
    """The subject digest, and its referrers through the referrers API, else the fallback tag."""
    from ..oci.reference import Reference
    from ..registry.client import Registry

    ref = Reference.parse(text)
    reg: Registry = registry_for(ref.registry)
    repo = ref.repository

    store = Store(lambda d: reg.get_manifest(repo, d)[0], partial(reg.read_blob, repo))
    _, media, digest = reg.get_manifest(repo, ref.digest or ref.tag or "latest")
    top = {"manifests": [{"mediaType": media, "digest": digest}]}
    subject = _subject_digest(top, None, store, platform, text)
    listing_body = reg.referrers(repo, subject)
    if listing_body is None:
        listing_body = reg.find_manifest(repo, fallback_tag(subject))
    if listing_body is None:
        return subject, []
    listing = [m for m in _json(listing_body, text).get("manifests") or [] if isinstance(m, dict)]
    return subject, _referrers_in(listing, subject, store, text)


def find_referrers(text: str, registry_for: Any, platform: Platform | None = None) -> list[Referrer]:
    if transports.is_local(text, offline_only=True):
        return local_referrers(text, platform)
    if transports.is_local(text):
        raise BadInput(f"{text}: the Docker engine keeps no referrers; use a layout, an archive or a registry")
    return registry_referrers(text, registry_for, platform)


@dataclass(frozen=True)
class Attested:
    """What `inspect` and `analyze` report: which documents refer to the image, and whether cosign's signature
    and signed attestations exist (their tags are looked up; verifying them needs the public key: cosign)."""

    sbom: tuple[str, ...] | None  # "spdx", "cyclonedx"; None: not knowable here (see `checked`)
    provenance: bool | None
    signature: bool | None  # None: not knowable here (the Docker engine keeps neither referrers nor tags)
    checked: str  # where the referrers were looked up, or why they could not be
    signed_attestations: bool | None = None  # cosign's `sha256-<hex>.att`

    def to_json(self) -> dict[str, Any]:
        return {"sbom": None if self.sbom is None else list(self.sbom), "provenance": self.provenance,
                "signature": self.signature, "signed_attestations": self.signed_attestations, "checked": self.checked}


SBOM_TYPES = {"application/spdx+json": "spdx", "application/vnd.cyclonedx+json": "cyclonedx"}
PROVENANCE_TYPE = "application/vnd.in-toto+json"


def attested(text: str, registry_for: Any, platform: Platform | None = None) -> Attested:
    """Never fails the caller: a store that cannot hold referrers (the engine, a `docker save` tar) says so."""
    try:
        if transports.is_local(text, offline_only=True):
            subject, found, names = _local_found(text, platform)
            where = "index.json"
            signature, signed = (f"{fallback_tag(subject)}.{kind}" in names for kind in ("sig", "att"))
        elif transports.is_local(text):
            raise BadInput(f"{text}: the Docker engine keeps no referrers; use a layout, an archive or a registry")
        else:
            subject, found = _registry(text, registry_for, platform)
            where = "registry referrers (API or sha256-<hex> tag)"
            signature, signed = (_has_cosign_tag(text, registry_for, subject, kind) for kind in ("sig", "att"))
    except (BadInput, CheckFailed) as e:
        return Attested(None, None, None, str(e))  # unknown, not "none": the engine may hold an attested image
    types = [r.artifact_type for r in found]
    return Attested(tuple(SBOM_TYPES[t] for t in types if t in SBOM_TYPES), PROVENANCE_TYPE in types, signature,
                    where, signed)


def _has_cosign_tag(text: str, registry_for: Any, subject: str, kind: str) -> bool:
    """cosign's tag scheme: `sha256-<hex>.sig` (signatures) and `.att` (attestations) beside the image."""
    from ..oci.reference import Reference

    ref = Reference.parse(text)
    return registry_for(ref.registry).find_manifest(ref.repository, f"{fallback_tag(subject)}.{kind}") is not None
