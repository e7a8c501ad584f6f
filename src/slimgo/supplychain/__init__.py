"""Supply-chain documents for built images: SBOMs (SPDX, CycloneDX), SLSA provenance, OCI 1.1 referrers."""
