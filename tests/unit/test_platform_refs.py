"""One Platform type, the transports table, SOURCE_DATE_EPOCH and `--push` ref resolution."""

from __future__ import annotations

import pytest

from slimgo.epoch import EPOCH_ZERO, rfc3339, source_date_epoch
from slimgo.errors import BadInput
from slimgo.oci.reference import Reference
from slimgo.oci.transports import DOCKER_ARCHIVE, DOCKER_DAEMON, OCI_LAYOUT, is_local, split
from slimgo.platform import Platform
from slimgo.stages.refs import push_refs


def test_platform_spellings() -> None:
    p = Platform.parse("linux/arm")
    assert p == Platform("linux", "arm", "v7") and p.key == "linux/arm/v7" == str(p)
    assert p.oci() == {"architecture": "arm", "os": "linux", "variant": "v7"}
    assert p.go_env() == {"GOOS": "linux", "GOARCH": "arm", "GOARM": "7"}
    assert Platform.from_oci({"os": "linux", "architecture": "arm64", "variant": "v8"}).key == "linux/arm64/v8"
    assert Platform.from_oci({}).key == ""


@pytest.mark.parametrize("offered,wanted,ok", [
    ("linux/amd64", "linux/amd64", True),
    ("linux/arm64/v8", "linux/arm64", True),  # no variant asked: any variant serves
    ("linux/arm/v6", "linux/arm/v7", False),
    ("linux/arm", "linux/arm/v7", True),  # a bare arm image is v7 by convention
    ("linux/arm64", "linux/amd64", False),
])
def test_platform_matching(offered: str, wanted: str, ok: bool) -> None:
    o = offered.split("/")
    assert Platform(*o).satisfies(Platform.parse(wanted)) is ok


@pytest.mark.parametrize("text", ["windows/amd64", "linux/sparc", "linux", "linux/arm/v9", "linux//x"])
def test_platform_refuses(text: str) -> None:
    with pytest.raises(BadInput):
        Platform.parse(text)


def test_transports_table() -> None:
    assert split("oci:dir:tag").transport is OCI_LAYOUT and split("oci:dir:tag").rest == "dir:tag"
    assert split("docker-archive:/x.tar").transport is DOCKER_ARCHIVE
    assert split("docker-daemon:img:1").transport is DOCKER_DAEMON
    assert split("ghcr.io/a/b:1").is_registry
    assert is_local("docker-daemon:x") and not is_local("docker-daemon:x", offline_only=True)
    assert not is_local("registry.example/oci:1")
    with pytest.raises(BadInput, match="oci:DIR"):
        split("oci:")


def test_source_date_epoch() -> None:
    assert source_date_epoch({}) == 0 and rfc3339(0) == EPOCH_ZERO
    assert rfc3339(source_date_epoch({"SOURCE_DATE_EPOCH": " 1700000000 "})) == "2023-11-14T22:13:20Z"
    for bad in ("1.5", "-1", "yesterday"):
        with pytest.raises(BadInput, match="SOURCE_DATE_EPOCH"):
            source_date_epoch({"SOURCE_DATE_EPOCH": bad})


def _tags(*names: str) -> tuple[Reference, ...]:
    return tuple(Reference.parse(n) for n in names)


def test_push_refs() -> None:
    # an explicit REF with a registry is used as given; extra tags of the same name ride along
    refs = push_refs("reg.example/team/app:1", "app", _tags("reg.example/team/app:latest"), "")
    assert [str(r) for r in refs] == ["reg.example/team/app:1", "reg.example/team/app:latest"]
    # no REF: every tag goes under SLIMGO_REPO
    refs = push_refs("", "app", _tags("app:1", "app:2"), "localhost:5000/me/")
    assert [str(r) for r in refs] == ["localhost:5000/me/app:1", "localhost:5000/me/app:2"]
    # a bare name goes under SLIMGO_REPO too
    assert str(push_refs("svc:3", "app", _tags("app"), "localhost:5000/me")[0]) == "localhost:5000/me/svc:3"
    with pytest.raises(BadInput, match="SLIMGO_REPO"):
        push_refs("", "app", _tags("app"), "")
