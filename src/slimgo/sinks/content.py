"""The file set of an OCI image layout, shared by the layout directory and the docker-archive sinks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from ..oci.model import Descriptor, Image, Index, canonical_json, sha256
from ..oci.reference import Reference
from ..supplychain.attach import EMPTY, EMPTY_BYTES, Attachment

if TYPE_CHECKING:  # signing is imported only by the builds that sign (--sign-key)
    from ..supplychain.sign import CosignManifest, Signing

LAYOUT_FILE = "oci-layout"
LAYOUT_VERSION = b'{"imageLayoutVersion":"1.0.0"}'


@dataclass(frozen=True)
class Published:
    """What a sink writes: one image or one index, the tags it carries, and the artifacts that refer to it."""

    artifact: Image | Index
    tags: tuple[Reference, ...] = ()
    attachments: tuple[Attachment, ...] = ()  # SBOMs, provenance: untagged, their subject is an image
    signing: Signing | None = None  # --sign-key: cosign's `.sig`/`.att` manifests, made per repository

    @property
    def digest(self) -> str:
        return self.artifact.digest

    @property
    def images(self) -> tuple[Image, ...]:
        return self.artifact.images if isinstance(self.artifact, Index) else (self.artifact,)

    def image_for(self, arch: str, variant: str = "") -> Image:
        """The image a single-platform consumer (docker load) should get: the host's, else the first."""
        for img in self.images:
            p = img.platform
            if p.arch == arch and (not variant or p.variant == variant):
                return img
        return self.images[0]

    def local_signatures(self) -> tuple[CosignManifest, ...]:
        """The `.sig`/`.att` manifests of a layout or archive, which name the first tag's repository."""
        if self.signing is None:
            return ()
        from ..supplychain.sign import docker_reference

        return self.signing.manifests(docker_reference(self.tags[0]) if self.tags else "")


@dataclass(frozen=True)
class FileItem:
    """A file of the output: either bytes, or a blob already on disk."""

    path: str
    data: bytes | None = None
    source: Path | None = None


def blob_items(pub: Published) -> list[FileItem]:
    items: dict[str, FileItem] = {}

    def add_bytes(data: bytes, digest: str) -> None:
        path = f"blobs/sha256/{digest.split(':', 1)[1]}"
        items.setdefault(path, FileItem(path, data=data))

    for img in pub.images:
        for layer in img.layers:
            path = f"blobs/sha256/{layer.descriptor.hex}"
            items.setdefault(path, FileItem(path, source=layer.path))
        add_bytes(img.config_bytes, img.config_descriptor.digest)
        add_bytes(img.manifest_bytes, img.digest)
    if isinstance(pub.artifact, Index):
        add_bytes(pub.artifact.manifest_bytes, pub.artifact.digest)
    for att in pub.attachments:
        add_bytes(EMPTY_BYTES, EMPTY.digest)
        add_bytes(att.blob, att.blob_descriptor.digest)
        add_bytes(att.manifest_bytes, att.digest)
    for sig in pub.local_signatures():
        for digest, blob in sig.blobs:
            add_bytes(blob, digest)
        add_bytes(sig.config_bytes, sha256(sig.config_bytes))
        add_bytes(sig.manifest_bytes, sig.digest)
    return [items[k] for k in sorted(items)]


def index_json(pub: Published) -> bytes:
    """The layout's index.json: one entry per tag (ref.name is the tag, as skopeo's oci:DIR:TAG reads), then
    one untagged entry per attachment (found by its `artifactType` and its manifest's `subject`), then, when
    signed, cosign's `.sig`/`.att` manifests tagged as in a registry and marked as `cosign save` marks them."""
    entries = []
    tags = pub.tags or (None,)
    signatures = pub.local_signatures()
    if signatures:
        from ..supplychain.sign import IMAGE_KIND, INDEX_KIND, KIND_ANNOTATION, KINDS
    for ref in tags:
        ann = {}
        if ref is not None:
            ann = {"org.opencontainers.image.ref.name": ref.tag or "latest",
                   "io.containerd.image.name": f"{ref.name}:{ref.tag or 'latest'}"}
        if signatures:
            ann[KIND_ANNOTATION] = IMAGE_KIND if isinstance(pub.artifact, Image) else INDEX_KIND
        if isinstance(pub.artifact, Image):
            # the platform lets readers that filter by it (syft's oci-dir) tell the image from its referrers
            entries.append(pub.artifact.descriptor(ann, with_platform=True).to_json())
        else:
            entries.append(pub.artifact.descriptor(ann).to_json())
    entries += [att.descriptor().to_json() for att in pub.attachments]
    for sig in signatures:
        entries.append(Descriptor(OCI_MANIFEST, sig.digest, len(sig.manifest_bytes), tuple(sorted({
            "org.opencontainers.image.ref.name": sig.tag, KIND_ANNOTATION: KINDS[sig.kind]}.items()))).to_json())
    return canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX,
                           "manifests": entries})


def layout_items(pub: Published) -> list[FileItem]:
    return [FileItem(LAYOUT_FILE, data=LAYOUT_VERSION), FileItem("index.json", data=index_json(pub)),
            *blob_items(pub)]


def docker_manifest(image: Image, tags: tuple[Reference, ...]) -> bytes:
    """Docker's `manifest.json` (the form Docker 20.10 loads), pointing into the layout's blobs."""
    doc = [{
        "Config": f"blobs/sha256/{image.config_descriptor.hex}",
        "RepoTags": [ref.with_tag() for ref in tags],
        "Layers": [f"blobs/sha256/{layer.descriptor.hex}" for layer in image.layers],
    }]
    return json.dumps(doc, separators=(",", ":")).encode()
