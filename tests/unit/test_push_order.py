"""A push that fails half-way never leaves its tag naming an image without its signature and documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from slimgo.oci.reference import Reference
from slimgo.sinks.content import Published
from slimgo.sinks.registry import push
from slimgo.stages.sign import signing
from slimgo.supplychain import spdx
from slimgo.supplychain.attach import attach
from slimgo.supplychain.sign import KeySigner
from tests.unit.test_image_sinks_sources import _image


class _RegistryThatFailsOnSignatures:
    """Records what is put; the `.sig` manifest is refused, as by a registry that dies at that moment."""

    def __init__(self) -> None:
        self.puts: list[str] = []

    def push_blob(self, repo: str, digest: str, size: int, open_blob: object, mount_from: object = None) -> str:
        return "uploaded"

    def put_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        if ref.endswith(".sig"):
            raise ConnectionError("registry went away")
        self.puts.append(ref)
        return ref

    def find_manifest(self, repo: str, ref: str) -> None:
        return None

    def referrers(self, repo: str, subject: str) -> None:
        return None

    def manifest_digest(self, repo: str, ref: str) -> None:
        return None  # nothing is there yet


def test_the_tag_goes_last(tmp_path: Path) -> None:
    img = _image(tmp_path)
    sbom = attach(img.descriptor(), spdx.MEDIA_TYPE, b'{"spdxVersion":"SPDX-2.3"}')
    signed = signing(KeySigner(ec.generate_private_key(ec.SECP256R1())), img, (sbom,), "127.0.0.1:5000/demo")
    reg = _RegistryThatFailsOnSignatures()
    with pytest.raises(ConnectionError):
        push(Published(img, (), (sbom,), signed), reg, (Reference.parse("127.0.0.1:5000/demo:v1"),))  # type: ignore[arg-type]
    assert "v1" not in reg.puts  # the tag was never moved to the unsigned image
    assert reg.puts[0] == img.digest and sbom.digest in reg.puts  # by digest, and its SBOM, went first

    complete = _RegistryThatFailsOnSignatures()
    push(Published(img, (), (sbom,)), complete, (Reference.parse("127.0.0.1:5000/demo:v1"),))  # type: ignore[arg-type]
    assert complete.puts[-1] == "v1"


class _RegistryThatHasIt(_RegistryThatFailsOnSignatures):
    """Manifests (by tag or digest) and referrers listings already there; counts what is sent."""

    def __init__(self, digests: dict[str, str], listings: dict[str, bytes]) -> None:
        super().__init__()
        self.digests, self.listings = digests, listings
        self.blobs = 0
        self.stats = type("Stats", (), {"add": lambda *_, **__: None})()

    def push_blob(self, repo: str, digest: str, size: int, open_blob: object, mount_from: object = None) -> str:
        self.blobs += 1
        return "uploaded"

    def manifest_digest(self, repo: str, ref: str) -> str | None:  # type: ignore[override]
        return self.digests.get(ref)

    def find_manifest(self, repo: str, ref: str) -> bytes | None:  # type: ignore[override]
        return self.listings.get(ref)


def test_a_tag_that_names_the_image_ends_the_push(tmp_path: Path) -> None:
    from slimgo.supplychain.attach import fallback_tag, referrers_index

    img = _image(tmp_path)
    sbom = attach(img.descriptor(), spdx.MEDIA_TYPE, b'{"spdxVersion":"SPDX-2.3"}')
    listed = {fallback_tag(img.digest): referrers_index(None, [sbom.descriptor()])}
    ref = (Reference.parse("127.0.0.1:5000/demo:v1"),)
    reg = _RegistryThatHasIt({"v1": img.digest, sbom.digest: sbom.digest}, listed)
    push(Published(img, (), (sbom,)), reg, ref)  # type: ignore[arg-type]
    assert (reg.puts, reg.blobs) == ([], 0)  # no blob, no manifest, no tag, no listing rewritten

    moved = _RegistryThatHasIt({"v1": "sha256:" + "0" * 64}, {})  # the tag names another image: a full push
    push(Published(img, (), (sbom,)), moved, ref)  # type: ignore[arg-type]
    assert moved.blobs > 0 and moved.puts[-1] == "v1" and sbom.digest in moved.puts
