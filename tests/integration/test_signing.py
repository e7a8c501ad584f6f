"""`slimgo build --sign-key` checked by the real cosign (v2.6.5), offline against a real registry (Debian's
distribution 2.8) and an OCI layout: `cosign verify` accepts the image signature and `cosign verify-attestation`
the SBOM and provenance attestations; a different key is refused. crane and skopeo see cosign's tags, every
manifest validates against the OCI schemas, the signed tarball still loads into Docker, and inspect reports it."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import slimgo
from tests.support.parts import HELLO, REPO, require
from tests.support.registry import have_registry, registry
from tests.support.schemas import validate

pytestmark = pytest.mark.integration

KEYS = REPO / "tests" / "data" / "cosign"
ENV = {"COSIGN_PASSWORD": "slimgo-test"}


def _build(*args: str | Path) -> dict[str, Any]:
    run = slimgo("build", HELLO, "--json", "--sign-key", KEYS / "cosign.key", *args, env=ENV)
    assert run.code == 0, run.err
    return dict(run.json())


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, go_bin: str, cosign: str) -> Any:
    require(have_registry(), "docker-registry is not installed (apt-get install docker-registry)")
    tmp = tmp_path_factory.mktemp("sign")
    with registry(tmp / "registry") as host:
        ref = f"{host}/sg-sign/hello"
        first = _build("-t", f"{ref}:1", "--push", f"{ref}:1", "--oci-layout", tmp / "l1", "--tarball", tmp / "a.tar")
        again = _build("-t", f"{ref}:1", "--oci-layout", tmp / "l2")
        cdx = _build("--push", f"{ref}:cdx", "--sbom", "cyclonedx", "--no-provenance")
        yield {"host": host, "ref": ref, "tmp": tmp, "first": first, "again": again, "cdx": cdx}


def _cosign(cosign: str, tmp: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Offline: no Rekor entry is expected, and TUF's cache goes to the test's folder (its fetch fails fast)."""
    return subprocess.run([cosign, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp), "TUF_ROOT": str(tmp / "tuf")})


VERIFY = ("--insecure-ignore-tlog=true", "--allow-insecure-registry", "--allow-http-registry")


def test_cosign_verifies_the_signature_and_every_attestation(signed: Any, cosign: str) -> None:
    tmp, digest = signed["tmp"], signed["first"]["image_digest"]
    assert signed["cdx"]["image_digest"] == digest  # same program: the CycloneDX attestation joins the same .att
    image = f"{signed['ref']}@{digest}"
    verified = _cosign(cosign, tmp, "verify", "--key", KEYS / "cosign.pub", *VERIFY, image)
    assert verified.returncode == 0, verified.stderr
    payloads = json.loads(verified.stdout)
    assert {p["critical"]["image"]["docker-manifest-digest"] for p in payloads} == {digest}
    assert {p["critical"]["identity"]["docker-reference"] for p in payloads} == {signed["ref"]}
    sbom = json.loads(slimgo("sbom", f"oci:{tmp / 'l1'}").out)
    for kind, predicate in (("slsaprovenance1", "https://slsa.dev/provenance/v1"),
                            ("spdxjson", "https://spdx.dev/Document"), ("cyclonedx", "https://cyclonedx.org/bom")):
        att = _cosign(cosign, tmp, "verify-attestation", "--key", KEYS / "cosign.pub", *VERIFY, "--type", kind, image)
        assert att.returncode == 0, f"{kind}: {att.stderr}"
        statements = [json.loads(base64.b64decode(json.loads(line)["payload"])) for line in att.stdout.splitlines()]
        assert [s["predicateType"] for s in statements] == [predicate]
        assert statements[0]["subject"][0]["digest"] == {"sha256": digest[7:]}
        if kind == "spdxjson":
            assert statements[0]["predicate"] == sbom  # the attested SBOM is the attached one
    other = tmp / "other"
    other.mkdir()
    made = subprocess.run([cosign, "generate-key-pair"], cwd=other, capture_output=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp), "COSIGN_PASSWORD": ""})
    assert made.returncode == 0, made.stderr
    refused = _cosign(cosign, tmp, "verify", "--key", other / "cosign.pub", *VERIFY, image)
    assert refused.returncode != 0 and "no matching signatures" in refused.stderr
    # the layout too: `cosign verify --local-image` reads slimgo's layout as one written by `cosign save`
    local = _cosign(cosign, tmp, "verify", "--key", KEYS / "cosign.pub", "--insecure-ignore-tlog=true",
                    "--local-image", tmp / "l1")
    assert local.returncode == 0, local.stderr
    local_att = _cosign(cosign, tmp, "verify-attestation", "--key", KEYS / "cosign.pub", "--insecure-ignore-tlog=true",
                        "--type", "slsaprovenance1", "--local-image", tmp / "l1")
    assert local_att.returncode == 0, local_att.stderr


def test_cosign_tags_are_listed_valid_and_reproducible(signed: Any, crane: str, skopeo: str,
                                                      oci_schemas: Path) -> None:
    host, ref, tmp, first = signed["host"], signed["ref"], signed["tmp"], signed["first"]
    hexd = first["image_digest"][7:]
    tags = subprocess.run([crane, "ls", "--insecure", ref], capture_output=True, text=True, check=True).stdout.split()
    assert {"1", "cdx", f"sha256-{hexd}", f"sha256-{hexd}.sig", f"sha256-{hexd}.att"} == set(tags)
    assert [(s["kind"], s["tag"]) for s in first["signatures"]] == [("sig", f"sha256-{hexd}.sig"),
                                                                    ("att", f"sha256-{hexd}.att")]
    layout = tmp / "l1"
    index = json.loads((layout / "index.json").read_text())
    validate(oci_schemas, "image-index-schema.json", index)
    by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]
              if "org.opencontainers.image.ref.name" in m.get("annotations", {})}
    # the pushed .sig is the layout's, byte for byte (same key, payload and repository: RFC 6979 signatures)
    sig_raw = subprocess.run([skopeo, "inspect", "--raw", "--tls-verify=false", f"docker://{ref}:sha256-{hexd}.sig"],
                             capture_output=True, check=True).stdout
    assert sig_raw == (layout / "blobs" / "sha256" / by_tag[f"sha256-{hexd}.sig"]["digest"][7:]).read_bytes()
    for tag in (f"sha256-{hexd}.sig", f"sha256-{hexd}.att"):
        raw = json.loads(subprocess.run([crane, "manifest", "--insecure", f"{ref}:{tag}"], capture_output=True,
                                        check=True).stdout)
        validate(oci_schemas, "image-manifest-schema.json", raw)
        config = subprocess.run([crane, "blob", "--insecure", f"{ref}@{raw['config']['digest']}"], capture_output=True,
                                check=True).stdout
        validate(oci_schemas, "config-schema.json", json.loads(config))
    att = json.loads(subprocess.run([crane, "manifest", "--insecure", f"{ref}:sha256-{hexd}.att"], capture_output=True,
                                    check=True).stdout)
    assert [x["annotations"]["predicateType"] for x in att["layers"]] == [
        "https://spdx.dev/Document", "https://slsa.dev/provenance/v1", "https://cyclonedx.org/bom"]  # merged
    assert (tmp / "l2" / "index.json").read_bytes() == (layout / "index.json").read_bytes()
    assert signed["again"]["signatures"] == first["signatures"]
    seen = slimgo("inspect", f"{host}/sg-sign/hello:1", "--json")
    assert seen.code == 0, seen.err
    assert {k: seen.json()["attestations"][k] for k in ("sbom", "provenance", "signature", "signed_attestations")} \
        == {"sbom": ["spdx", "cyclonedx"], "provenance": True, "signature": True, "signed_attestations": True}
    shown = slimgo("analyze", tmp / "a.tar", "--json")
    assert shown.code == 0 and shown.json()["attestations"]["signature"] is True


def test_a_signed_tarball_still_loads_into_docker(signed: Any, docker: str) -> None:
    tag = f"{signed['ref']}:1"
    try:
        loaded = subprocess.run([docker, "load", "-i", str(signed["tmp"] / "a.tar")], capture_output=True, text=True,
                                timeout=120)
        assert loaded.returncode == 0 and tag in loaded.stdout, loaded.stderr
        ident = subprocess.run([docker, "image", "inspect", "--format", "{{.Config.Entrypoint}}", tag],
                               capture_output=True, text=True, check=True).stdout
        assert "/app/hello" in ident
    finally:
        subprocess.run([docker, "image", "rm", "-f", tag], capture_output=True, timeout=60)
