"""The build summary says what was attached and signed, and when nothing kept it (`--load` alone)."""

from slimgo.report.build_summary import supply_chain_lines

SIG = "sha256-" + "ab" * 32 + ".sig"
ATT = "sha256-" + "ab" * 32 + ".att"


def test_signed_layout_names_documents_and_tags():
    lines = supply_chain_lines(["application/spdx+json", "application/vnd.in-toto+json"], [SIG, ATT],
                               {"oci_layout": "out"})
    assert lines[0].startswith("attached: SLSA provenance, SPDX SBOM (OCI referrers")
    assert lines[1].startswith("signed: 2 cosign manifests (sha256-abababababab….att, sha256-abababababab….sig)")
    assert "cosign verify --key" in lines[1]
    assert not any("not stored" in line for line in lines)


def test_load_alone_says_nothing_was_stored():
    lines = supply_chain_lines(["application/vnd.cyclonedx+json"], [SIG], {"loaded": "Loaded image: x:y"})
    assert lines[0].startswith("attached: CycloneDX SBOM") and lines[0].endswith(
        "(made, not stored: the Docker engine keeps no referrers or signatures)")
    assert lines[1].startswith("signed: 1 cosign manifest (") and "not stored" in lines[1]


def test_unsigned_build_without_attachments_prints_nothing():
    assert supply_chain_lines([], [], {"tarball": "dist/x.tar"}) == []


def test_a_loaded_image_is_run_by_tag() -> None:
    """`docker run name@sha256:<manifest>` after --load asked Docker Hub: the engine (20.10) stores no
    manifest digest for a loaded image."""
    from slimgo.report.build_summary import loaded_line

    line = loaded_line(["trial-httpbin:v2"], {"loaded": "Loaded image: trial-httpbin:v2"})
    assert line is not None and "`docker run --rm trial-httpbin:v2`" in line and "is for a registry" in line
    pushed_too = loaded_line(["r.example/app:1"], {"loaded": "…", "pushed": "r.example/app@sha256:…"})
    assert pushed_too is not None and "for a registry" not in pushed_too
    assert loaded_line(["x:1"], {"tarball": "dist/x.tar"}) is None
