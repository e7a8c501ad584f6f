"""Manifests: fetched with a 4 MiB limit (as registries enforce), checked against a requested digest,
their media type taken from Content-Type or, when a registry omits it, from the document itself."""

from __future__ import annotations

import json

from ..errors import ImageFormatError
from ..limits import MAX_DOCUMENT
from ..oci.digest import Digest, DigestError
from .transport import RegistryError, Transport

MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


class Manifests:
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def get(self, repo: str, ref: str) -> tuple[bytes, str, Digest]:
        """(body, media type, digest) of a manifest by tag or digest."""
        want = Digest.parse(ref, f"{self.t.host}/{repo}@{ref}") if ":" in ref else None
        resp = self.t.request("GET", f"/v2/{repo}/manifests/{want or ref}", scope=f"repository:{repo}:pull",
                              headers={"Accept": MANIFEST_ACCEPT}, allow=(404,), stream=True)
        if resp.status_code == 404:
            resp.close()
            raise RegistryError(f"{self.t.host}/{repo}:{ref}: manifest unknown")
        body = self.t.read_body(resp, MAX_DOCUMENT, f"manifest {ref}")
        digest = Digest.of(body, want.algorithm if want else "sha256")
        if want is not None and digest != want:
            raise ImageFormatError(f"{self.t.host}/{repo}@{ref}: digest mismatch on the manifest")
        media = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if not media or media in ("application/json", "application/octet-stream", "text/plain"):
            media = _declared_media_type(body)
        return body, media, digest

    def digest(self, repo: str, ref: str) -> str | None:
        """What ref names now (HEAD, Docker-Content-Digest), or None: unknown, or an answer without a digest.
        Only used to skip a push of what is already there; a registry that lies only misleads itself."""
        resp = self.t.request("HEAD", f"/v2/{repo}/manifests/{ref}", scope=f"repository:{repo}:pull,push",
                              headers={"Accept": MANIFEST_ACCEPT}, allow=(404,))
        if resp.status_code == 404:
            return None
        try:
            return str(Digest.parse(resp.headers.get("Docker-Content-Digest", ""), "manifest digest"))
        except DigestError:
            return None

    def put(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        resp = self.t.request("PUT", f"/v2/{repo}/manifests/{ref}", scope=f"repository:{repo}:pull,push",
                              ok=(201,), data=body, headers={"Content-Type": media_type})
        resp.close()
        return str(Digest.of(body))  # computed here: a header from the registry is not trusted


def _declared_media_type(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    media = doc.get("mediaType") if isinstance(doc, dict) else None
    return media if isinstance(media, str) else ""
