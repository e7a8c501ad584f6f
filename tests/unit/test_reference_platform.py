from __future__ import annotations

import pytest

from slimgo.errors import BadInput
from slimgo.oci.reference import Reference
from slimgo.platform import Platform


@pytest.mark.parametrize("text,registry,repo,tag,short", [
    ("hello", "docker.io", "library/hello", "latest", "hello"),
    ("hello:dev", "docker.io", "library/hello", "dev", "hello"),
    ("me/app:1.2", "docker.io", "me/app", "1.2", "me/app"),
    ("localhost:5000/app", "localhost:5000", "app", "latest", "localhost:5000/app"),
    ("127.0.0.1:5000/a/b:v1", "127.0.0.1:5000", "a/b", "v1", "127.0.0.1:5000/a/b"),
    ("ghcr.io/org/app:x", "ghcr.io", "org/app", "x", "ghcr.io/org/app"),
])
def test_reference_parsing(text: str, registry: str, repo: str, tag: str, short: str) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.short_name) == (registry, repo, tag, short)


def test_reference_with_digest() -> None:
    d = "sha256:" + "a" * 64
    ref = Reference.parse(f"app@{d}")
    assert ref.digest == d and ref.tag == ""
    assert ref.with_digest(d) == f"app@{d}"


@pytest.mark.parametrize("bad", ["UPPER/case", "app:bad tag", "app@sha256:short", "", "a//b"])
def test_bad_references(bad: str) -> None:
    with pytest.raises(BadInput):
        Reference.parse(bad)


def test_platforms() -> None:
    assert Platform.parse("linux/arm64").go_env() == {"GOOS": "linux", "GOARCH": "arm64"}
    arm = Platform.parse("linux/arm")
    assert arm.variant == "v7" and arm.go_env()["GOARM"] == "7"
    assert arm.oci() == {"architecture": "arm", "os": "linux", "variant": "v7"}
    for bad in ("linux", "windows/amd64", "linux/sparc", "linux/arm/v9"):
        with pytest.raises(BadInput):
            Platform.parse(bad)
