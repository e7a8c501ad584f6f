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
