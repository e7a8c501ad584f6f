"""SBOM and provenance of a real Go program (go-httpbin), attached as OCI 1.1 referrers: in the layout, the
tarball and a real registry without the referrers API (Debian's distribution 2.8, so the `sha256-<hex>`
tag fallback), read back by crane, skopeo and `slimgo sbom`; reproducible, and never changing the image."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import slimgo
from tests.support.parts import HTTPBIN, require
from tests.support.registry import have_registry, registry
from tests.support.schemas import validate

pytestmark = pytest.mark.integration

SPDX, INTOTO, CDX = "application/spdx+json", "application/vnd.in-toto+json", "application/vnd.cyclonedx+json"
REPO = "sg-supply/httpbin"


def _blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()


def _build(out: Path, *args: str | Path) -> dict[str, Any]:
    run = slimgo("build", HTTPBIN, "--json", "--oci-layout", out, *args)
    assert run.code == 0, run.err
    return dict(run.json())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> Any:
    require(have_registry(), "docker-registry is not installed (apt-get install docker-registry)")
    tmp = tmp_path_factory.mktemp("supply")
    with registry(tmp / "registry") as host:
        first = _build(tmp / "l1", "--tarball", tmp / "a.tar", "--push", f"{host}/{REPO}:1")
        yield {"host": host, "tmp": tmp, "first": first, "second": _build(tmp / "l2"),
               "bare": _build(tmp / "l3", "--sbom", "none", "--no-provenance"),
               "cdx": _build(tmp / "l4", "--sbom", "cyclonedx", "--no-provenance")}


def test_attachments_are_reproducible_and_leave_the_image_alone(built: Any) -> None:
    first, second, bare, cdx = built["first"], built["second"], built["bare"], built["cdx"]
    assert first["image_digest"] == second["image_digest"] == bare["image_digest"] == cdx["image_digest"]
    assert [a["artifact_type"] for a in first["attachments"]] == [SPDX, INTOTO]
    assert first["attachments"] == second["attachments"]  # same build, byte-identical documents
    assert bare["attachments"] == [] and [a["artifact_type"] for a in cdx["attachments"]] == [CDX]
    index = json.loads((built["tmp"] / "l3" / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [bare["image_digest"]]


def test_every_artifact_validates_and_names_the_image(built: Any, oci_schemas: Path) -> None:
    layout = built["tmp"] / "l1"
    index = json.loads((layout / "index.json").read_text())
    validate(oci_schemas, "image-index-schema.json", index)
    image = index["manifests"][0]
    for entry in index["manifests"][1:]:
        manifest = json.loads(_blob(layout, entry["digest"]))
        validate(oci_schemas, "image-manifest-schema.json", manifest)
        assert manifest["subject"] == {k: image[k] for k in ("mediaType", "digest", "size")}
        assert manifest["artifactType"] == entry["artifactType"] == manifest["layers"][0]["mediaType"]
        assert _blob(layout, manifest["config"]["digest"]) == b"{}"
    sbom = json.loads(_blob(layout, json.loads(_blob(layout, index["manifests"][1]["digest"]))["layers"][0]["digest"]))
    purls = {p["externalRefs"][0]["referenceLocator"] for p in sbom["packages"] if p.get("externalRefs")}
    go_version = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    assert {"pkg:golang/github.com/mccutchen/go-httpbin/v2@v2.26.0",
            f"pkg:golang/stdlib@{go_version.removeprefix('go')}"} <= purls
    main = next(p for p in sbom["packages"] if p["SPDXID"] == "SPDXRef-Main")
    assert main["checksums"][0]["algorithm"] == "SHA256"  # go.sum's h1 of the module, as hex
    cdx_layout = built["tmp"] / "l4"
    cdx_index = json.loads((cdx_layout / "index.json").read_text())
    doc = _blob(cdx_layout, json.loads(_blob(cdx_layout, cdx_index["manifests"][1]["digest"]))["layers"][0]["digest"])
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(doc.decode()) is None


def test_registry_fallback_tag_is_read_by_crane_skopeo_and_slimgo(built: Any, crane: str, skopeo: str) -> None:
    host, first = built["host"], built["first"]
    subject = first["image_digest"]
    # distribution 2.8 has no referrers API: the fallback tag holds the index of referrers
    listing = json.loads(subprocess.run([crane, "manifest", "--insecure", f"{host}/{REPO}:sha256-{subject[7:]}"],
                                        capture_output=True, check=True).stdout)
    assert [(m["digest"], m["artifactType"]) for m in listing["manifests"]] == \
        [(a["digest"], a["artifact_type"]) for a in first["attachments"]]
    for att in first["attachments"]:
        raw = subprocess.run([skopeo, "inspect", "--raw", "--tls-verify=false", f"docker://{host}/{REPO}@{att['digest']}"],
                             capture_output=True, check=True).stdout
        assert raw == _blob(built["tmp"] / "l1", att["digest"])
        assert json.loads(raw)["subject"]["digest"] == subject
    pushed = slimgo("sbom", f"{host}/{REPO}:1")
    local = slimgo("sbom", f"oci:{built['tmp'] / 'l1'}")
    archive = slimgo("sbom", f"docker-archive:{built['tmp'] / 'a.tar'}")
    assert pushed.code == local.code == archive.code == 0, pushed.err + local.err + archive.err
    assert pushed.out == local.out == archive.out and json.loads(pushed.out)["spdxVersion"] == "SPDX-2.3"
    seen = slimgo("inspect", f"{host}/{REPO}:1", "--json")
    assert seen.code == 0, seen.err
    assert seen.json()["attestations"]["sbom"] == ["spdx"] and seen.json()["attestations"]["provenance"] is True
    assert seen.json()["attestations"]["signature"] is False  # built without --sign-key: no cosign `.sig` tag
    prov = json.loads(slimgo("sbom", f"{host}/{REPO}:1", "--artifact", "provenance").out)
    assert prov["subject"][0]["digest"]["sha256"] == subject[7:]
    # pushing again merges into the fallback tag instead of duplicating entries
    again = slimgo("build", HTTPBIN, "--push", f"{host}/{REPO}:2", "--sbom", "cyclonedx", "--json")
    assert again.code == 0, again.err
    listing = json.loads(subprocess.run([crane, "manifest", "--insecure", f"{host}/{REPO}:sha256-{subject[7:]}"],
                                        capture_output=True, check=True).stdout)
    assert [m["artifactType"] for m in listing["manifests"]] == [SPDX, INTOTO, CDX]


def test_syft_scanning_the_image_finds_the_modules_the_sbom_lists(built: Any, syft: str) -> None:
    """syft reads the binary's build info from the image's layers; slimgo wrote it from the same build info
    without scanning. The Go modules (with versions) must be the same set; what only slimgo lists is the
    image and the base it knows it used (syft cannot tell a CA bundle's certifi version from its bytes)."""
    layout = built["tmp"] / "l1"
    scan = subprocess.run([syft, "scan", f"oci-dir:{layout}", "-o", "json", "-q"], capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(built["tmp"]),
                                            "SYFT_CHECK_FOR_APP_UPDATE": "false"})
    assert scan.returncode == 0, scan.stderr
    found = json.loads(scan.stdout)
    assert found["source"]["metadata"]["manifestDigest"] == built["first"]["image_digest"]
    syft_go = {a["purl"] for a in found["artifacts"] if a["type"] == "go-module"}
    sbom = json.loads(slimgo("sbom", f"oci:{layout}").out)
    purls = {r["referenceLocator"] for p in sbom["packages"] for r in p.get("externalRefs") or []}
    slimgo_go = {p for p in purls if p.startswith("pkg:golang/")}
    assert syft_go == slimgo_go and len(slimgo_go) >= 2  # the main module and stdlib at least
    assert {p.split(":")[1].split("/")[0] for p in purls - slimgo_go} == {"oci", "pypi"}  # image, base, certifi, tzdata
