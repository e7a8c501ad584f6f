"""SBOMs and provenance from real build info, checked by the SPDX and CycloneDX projects' own validators;
their OCI 1.1 attachment written by the sinks, found again through the referrers, and never changing the image."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from slimgo.base.model import Base
from slimgo.binary.buildinfo import parse_modinfo
from slimgo.oci.mediatypes import OCI_MANIFEST
from slimgo.oci.model import Descriptor
from slimgo.oci.reference import Reference
from slimgo.sinks.archive import ArchiveSink
from slimgo.sinks.content import Published
from slimgo.sinks.layout import LayoutSink
from slimgo.sources.local import open_image
from slimgo.supplychain import cyclonedx, provenance, spdx
from slimgo.supplychain.attach import EMPTY, attach, fallback_tag, referrers_index
from slimgo.supplychain.inventory import golang_purl, h1_sha256, inventory
from slimgo.supplychain.referrers import local_referrers
from tests.support.cli import run
from tests.support.parts import OCI_SCHEMAS
from tests.support.schemas import validate
from tests.unit.test_image_sinks_sources import _image

# What `go version -m` prints for crane v0.22.1 (trimmed), plus a replaced module and VCS settings.
MODINFO = "\n".join([
    "path\tgithub.com/google/go-containerregistry/cmd/crane",
    "mod\tgithub.com/google/go-containerregistry\tv0.22.1\th1:RZuuSYhTvlDvtsK+NkutoCZ//C0X2ebLK8X8l3ULs84=",
    "dep\tgithub.com/docker/cli\tv29.7.2+incompatible\th1:dlkwallR8XqfeVnA2ELEhdwvb4lsSwuB4IgsG8Q9cLY=",
    "dep\tgithub.com/spf13/cobra\tv1.10.2\th1:DMTTonx5m65Ic0GOoRY2c16WCbHxOOw6xxezuLaBpcU=",
    "dep\tgolang.org/x/sys\tv0.40.0",
    "=>\tgolang.org/x/sys\tv0.47.0\th1:o7XGOvZQCADBQQ4Y7VNq2dRWQR7JmOUW8Kxx4ZsNgWs=",
    "build\t-buildmode=exe",
    "build\tCGO_ENABLED=0",
    "build\tvcs=git",
    "build\tvcs.revision=0123456789abcdef0123456789abcdef01234567",
    "build\tvcs.url=https://github.com/google/go-containerregistry",
    "build\tvcs.modified=false",
])
DIGEST = "sha256:" + "ab" * 32
STATIC = Base("slimgo/static", (), {"config": {"Labels": {
    "dev.slimgo.base.ca-bundle": "certifi 2026.05.20",
    "dev.slimgo.base.tzdata": "IANA 2026a (tzdata 2026.6)"}}}, digest="sha256:" + "cd" * 32)


def _inv(digest: str = DIGEST, base: Base = STATIC):  # type: ignore[no-untyped-def]
    return inventory("docker.io/library/crane", digest, "linux/amd64", "crane", parse_modinfo(MODINFO, "go1.26.8"),
                     "", "go1.26.8", base)


def test_purls_and_hashes_are_written_as_syft_writes_them() -> None:
    inv = _inv()
    assert inv.main.purl == "pkg:golang/github.com/google/go-containerregistry@v0.22.1"
    assert [d.purl for d in inv.deps] == ["pkg:golang/github.com/docker/cli@v29.7.2+incompatible",
                                          "pkg:golang/github.com/spf13/cobra@v1.10.2",
                                          "pkg:golang/golang.org/x/sys@v0.47.0"]  # the replacement is what linked
    assert inv.toolchain.purl == "pkg:golang/stdlib@1.26.8"
    assert golang_purl("example.com/hello", "(devel)") == "pkg:golang/example.com/hello"
    # h1 is base64 of 32 bytes; SBOMs carry them as hex SHA-256
    assert h1_sha256("h1:JbKBrX9F9wjwXedIJkWe+jjYRjysHZrWKgJRPDSIxVw=") == \
        "25b281ad7f45f708f05de74826459efa38d8463cac1d9ad62a02513c3488c55c"
    assert h1_sha256("h1:not-base64!") == "" and h1_sha256("") == ""
    assert [(c.name, c.version) for c in inv.base] == [
        ("slimgo/static", "sha256:" + "cd" * 32), ("certifi", "2026.05.20"), ("tzdata", "2026.6")]


def test_spdx_validates_with_spdx_tools_and_lists_every_module(tmp_path: Path) -> None:
    parse_anything = pytest.importorskip("spdx_tools.spdx.parser.parse_anything", reason="spdx-tools is a test extra")
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    data = spdx.render(_inv(), "1970-01-01T00:00:00Z")
    path = tmp_path / "sbom.spdx.json"
    path.write_bytes(data)
    assert validate_full_spdx_document(parse_anything.parse_file(str(path))) == []
    doc = json.loads(data)
    purls = {p["externalRefs"][0]["referenceLocator"] for p in doc["packages"]}
    assert {"pkg:golang/github.com/docker/cli@v29.7.2+incompatible", "pkg:golang/stdlib@1.26.8",
            "pkg:pypi/certifi@2026.05.20", "pkg:pypi/tzdata@2026.6"} <= purls
    cobra = next(p for p in doc["packages"] if p["name"] == "github.com/spf13/cobra")
    assert cobra["checksums"] == [{"algorithm": "SHA256", "checksumValue": h1_sha256(
        "h1:DMTTonx5m65Ic0GOoRY2c16WCbHxOOw6xxezuLaBpcU=")}]
    main = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Main")
    assert "go build setting CGO_ENABLED=0" in [a["comment"] for a in main["annotations"]]


def test_cyclonedx_lists_modules_settings_and_no_clock() -> None:
    """cyclonedx-python-lib's strict validator (about 10 s to load its schemas) runs in the integration tier,
    on go-httpbin's document (tests/integration/test_supplychain.py)."""
    data = cyclonedx.render(_inv(), None)
    doc = json.loads(data)
    assert "timestamp" not in doc["metadata"]  # no wall-clock time without SOURCE_DATE_EPOCH
    assert json.loads(cyclonedx.render(_inv(), "2023-11-14T22:13:20Z"))["metadata"]["timestamp"] == \
        "2023-11-14T22:13:20Z"
    names = {(c["name"], c["version"]) for c in doc["components"]}
    assert ("golang.org/x/sys", "v0.47.0") in names and ("stdlib", "go1.26.8") in names
    props = {p["name"]: p["value"] for p in doc["components"][0]["properties"]}
    assert props["slimgo:go:build:vcs.revision"] == "0123456789abcdef0123456789abcdef01234567"


def test_documents_are_a_function_of_the_image() -> None:
    for render in (lambda i: spdx.render(i, "1970-01-01T00:00:00Z"), lambda i: cyclonedx.render(i, None)):
        assert render(_inv()) == render(_inv())
        assert render(_inv()) != render(_inv("sha256:" + "ef" * 32))


def test_provenance_states_source_toolchain_and_base() -> None:
    call = provenance.Invocation("github.com/google/go-containerregistry/cmd/crane@v0.22.1",
                                 "CGO_ENABLED=0 go build -trimpath", "static", "linux/amd64")
    doc = json.loads(provenance.render(_inv(), call, None))
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["predicateType"] == "https://slsa.dev/provenance/v1"
    assert doc["subject"] == [{"name": "docker.io/library/crane", "digest": {"sha256": "ab" * 32}}]
    build = doc["predicate"]["buildDefinition"]
    assert build["internalParameters"]["goBuild"] == "CGO_ENABLED=0 go build -trimpath"
    deps = build["resolvedDependencies"]
    assert deps[0] == {"uri": "git+https://github.com/google/go-containerregistry@"
                              "0123456789abcdef0123456789abcdef01234567",
                       "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"},
                       "annotations": {"vcs.modified": "false", "vcs.time": ""}}
    assert {"uri": "pkg:golang/stdlib@1.26.8", "name": "go1.26.8"} in deps
    assert any(d.get("digest") == {"sha256": "cd" * 32} for d in deps)  # the resolved base
    assert "startedOn" not in doc["predicate"]["runDetails"]["metadata"]


def test_artifact_manifest_and_fallback_index_validate() -> None:
    subject = Descriptor(OCI_MANIFEST, DIGEST, 500)
    att = attach(subject, spdx.MEDIA_TYPE, b'{"x":1}')
    manifest = json.loads(att.manifest_bytes)
    validate(OCI_SCHEMAS, "image-manifest-schema.json", manifest)
    assert manifest["config"] == {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY.digest,
                                  "size": 2, "data": "e30="}
    assert manifest["subject"] == {"mediaType": OCI_MANIFEST, "digest": DIGEST, "size": 500}
    assert fallback_tag(DIGEST) == "sha256-" + "ab" * 32
    other = attach(subject, provenance.MEDIA_TYPE, b"{}")
    first = referrers_index(None, [att.descriptor()])
    merged = json.loads(referrers_index(first, [att.descriptor(), other.descriptor()]))
    validate(OCI_SCHEMAS, "image-index-schema.json", merged)
    assert [(m["digest"], m["artifactType"]) for m in merged["manifests"]] == [
        (att.digest, spdx.MEDIA_TYPE), (other.digest, provenance.MEDIA_TYPE)]


def test_layout_and_archive_carry_referrers_without_changing_the_image(tmp_path: Path) -> None:
    img = _image(tmp_path)
    atts = (attach(img.descriptor(), spdx.MEDIA_TYPE, b'{"spdx":1}'),
            attach(img.descriptor(), provenance.MEDIA_TYPE, b'{"slsa":1}'))
    tags = (Reference.parse("demo:1"),)
    LayoutSink(tmp_path / "plain").publish(Published(img, tags))
    LayoutSink(tmp_path / "l").publish(Published(img, tags, atts))
    ArchiveSink(tmp_path / "a.tar", "amd64").publish(Published(img, tags, atts))
    index = json.loads((tmp_path / "l" / "index.json").read_text())
    validate(OCI_SCHEMAS, "image-index-schema.json", index)
    plain = json.loads((tmp_path / "plain" / "index.json").read_text())
    assert index["manifests"][0] == plain["manifests"][0]  # the image entry, first and unchanged
    assert [m.get("artifactType") for m in index["manifests"][1:]] == [spdx.MEDIA_TYPE, provenance.MEDIA_TYPE]
    for ref in (f"oci:{tmp_path / 'l'}", f"oci:{tmp_path / 'l'}:1", f"docker-archive:{tmp_path / 'a.tar'}"):
        assert [i.manifest_digest for i in open_image(ref)] == [img.digest]  # artifacts are not images
        found = local_referrers(ref)
        assert [(r.artifact_type, r.subject) for r in found] == [(spdx.MEDIA_TYPE, img.digest),
                                                                 (provenance.MEDIA_TYPE, img.digest)]
        assert found[0].read() == b'{"spdx":1}'
    res = run("sbom", f"oci:{tmp_path / 'l'}")
    assert (res.code, res.out) == (0, '{"spdx":1}')
    res = run("sbom", f"oci:{tmp_path / 'plain'}")
    assert res.code == 1 and "no SBOM is attached" in res.err
    as_json = run("sbom", f"oci:{tmp_path / 'l'}", "--artifact", "provenance", "--json")
    assert as_json.code == 0 and as_json.json() == {
        "schema_version": 1, "ref": f"oci:{tmp_path / 'l'}", "artifact_type": provenance.MEDIA_TYPE,
        "digest": atts[1].digest, "subject": img.digest, "document": {"slsa": 1}}
    failed = run("sbom", f"oci:{tmp_path / 'plain'}", "--json")
    assert failed.code == 1 and failed.json()["error"]["code"] == 1
    seen = run("inspect", f"oci:{tmp_path / 'l'}", "--json")
    assert seen.code == 0, seen.err
    assert seen.json()["attestations"] == {"sbom": ["spdx"], "provenance": True, "signature": False,
                                           "signed_attestations": False,
                                           "checked": "index.json"}
    assert run("inspect", f"oci:{tmp_path / 'plain'}", "--json").json()["attestations"]["sbom"] == []


def test_sbom_refuses_bad_input_and_tampered_blobs(tmp_path: Path) -> None:
    img = _image(tmp_path)
    att = attach(img.descriptor(), spdx.MEDIA_TYPE, b'{"spdx":1}')
    LayoutSink(tmp_path / "l").publish(Published(img, (), (att,)))
    blob = tmp_path / "l" / "blobs" / "sha256" / att.blob_descriptor.hex
    blob.write_bytes(b'{"spdx":2}')
    res = run("sbom", f"oci:{tmp_path / 'l'}")
    assert res.code == 2 and "failed its digest check" in res.err and "Traceback" not in res.err
    assert run("sbom", f"oci:{tmp_path / 'missing'}").code == 2
    assert run("sbom", "docker-daemon:x").code == 2
    with tarfile.open(tmp_path / "docker.tar", "w"):
        pass
    assert run("sbom", f"docker-archive:{tmp_path / 'docker.tar'}").code == 1
    assert run("build", "--sbom", "xml").code == 2


def test_each_platform_of_an_index_has_its_own_referrers(tmp_path: Path) -> None:
    from slimgo.oci.model import make_index
    from slimgo.platform import Platform

    amd, arm = _image(tmp_path, "linux/amd64", b"a"), _image(tmp_path, "linux/arm64", b"b")
    atts = tuple(attach(img.descriptor(), spdx.MEDIA_TYPE, img.digest.encode()) for img in (amd, arm))
    LayoutSink(tmp_path / "l").publish(Published(make_index([amd, arm]), (Reference.parse("demo:1"),), atts))
    for img, plat in ((amd, None), (amd, "linux/amd64"), (arm, "linux/arm64")):
        found = local_referrers(f"oci:{tmp_path / 'l'}:1", Platform.parse(plat) if plat else None)
        assert [(r.subject, r.read()) for r in found] == [(img.digest, img.digest.encode())]
    res = run("sbom", f"oci:{tmp_path / 'l'}", "--platform", "linux/s390x")
    assert res.code == 2 and "no linux/s390x image (it has linux/amd64, linux/arm64)" in res.err  # what to ask for


def test_what_cannot_be_known_is_null_and_unknown_not_none(tmp_path: Path) -> None:
    """The engine keeps no referrers: "SBOM none · provenance none" read as "this image has none"."""
    from slimgo.report.inspect_view import attached_line
    from slimgo.supplychain.referrers import attested

    unknown = attested("docker-daemon:some-image:1", None).to_json()
    assert unknown["sbom"] is None and unknown["provenance"] is None and unknown["signature"] is None
    assert attached_line(unknown) == (
        "[bold]Attached[/]: unknown (docker-daemon:some-image:1: the Docker engine keeps no referrers; "
        "use a layout, an archive or a registry)")
    img = _image(tmp_path)
    LayoutSink(tmp_path / "plain").publish(Published(img, ()))
    known = attested(f"oci:{tmp_path / 'plain'}", None).to_json()
    assert known["sbom"] == [] and known["provenance"] is False
    assert attached_line(known).startswith("[bold]Attached[/]: SBOM none · provenance none")
