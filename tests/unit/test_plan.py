"""plan(request) → BuildPlan: every input checked before anything is compiled (no `go build` runs here;
the toolchain is only asked for its version and environment)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from slimgo.config import BuildConfig
from slimgo.errors import BadInput
from slimgo.platform import Platform
from slimgo.stages.plan import BuildRequest, plan
from tests.support.parts import HELLO, HTTPBIN, require


@pytest.fixture(autouse=True)
def _go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require(shutil.which("go") is not None, "the Go toolchain is not installed")
    monkeypatch.chdir(tmp_path)  # the default output (dist/NAME.tar) lands here


def test_defaults() -> None:
    p = plan(BuildRequest(target=HTTPBIN), {})
    assert p.target.name == "go-httpbin" and p.target.version == "v2.26.0"
    assert p.platforms == (Platform.parse(f"linux/{p.toolchain.goarch}"),) and p.base_name == "static"
    assert (p.compression, p.level, p.epoch, p.created) == ("gzip", 6, 0, "1970-01-01T00:00:00Z")
    assert p.flags.command_line() == "CGO_ENABLED=0 go build -trimpath '-ldflags=-s -w'"
    assert p.outputs.tarball == Path("dist/go-httpbin.tar") and p.outputs.default_tarball
    assert not Path("dist").exists()  # made only when the archive is written
    assert not p.reference_build  # the plain `go build` is opt-in
    assert [str(t) for t in p.tags] == ["go-httpbin:latest"] and p.notes == ()
    assert p.post_compile == () and p.extra_layers == ()


def test_settings_and_environment() -> None:
    settings = BuildConfig(platforms=["linux/arm64", "linux/arm"], compression="zstd", user="1000:1000",
                           ldflags="-X main.v=1", env={"CGO_ENABLED": "1"})
    p = plan(BuildRequest(target=HTTPBIN, settings=settings, push="", image_tags=["app:1"]),
             {"SOURCE_DATE_EPOCH": "1700000000", "SLIMGO_REPO": "localhost:5000/me"})
    assert [str(x) for x in p.platforms] == ["linux/arm64", "linux/arm/v7"]
    assert p.level == 19 and p.user == "1000:1000" and p.created == "2023-11-14T22:13:20Z"
    assert p.flags.cgo is True and p.flags.ldflags == "-s -w -X main.v=1"
    assert [str(r) for r in p.outputs.push] == ["localhost:5000/me/go-httpbin:1"]
    assert p.outputs.tarball is None  # pushing: no default archive
    assert p.notes and "zstd" in p.notes[0]


def test_platform_all_leaves_the_choice_to_the_base() -> None:
    p = plan(BuildRequest(target=HTTPBIN, settings=BuildConfig(platforms=["all"])), {})
    assert p.platforms == () and p.all_platforms


@pytest.mark.parametrize("settings,needle", [
    (BuildConfig(platforms=["linux/amd64", "linux/amd64"]), "listed twice"),
    (BuildConfig(platforms=["darwin/arm64"]), "only linux"),
    (BuildConfig(user="a:b:c"), "UID\\[:GID\\]"),
    (BuildConfig(compression="gzip", compression_level=13), "0-12"),  # libdeflate, the default, has 0-12
    (BuildConfig(compression="gzip", compression_level=12, compression_library="zlib"), "0-9"),
])
def test_bad_settings_fail_before_any_compile(settings: BuildConfig, needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        plan(BuildRequest(target=HTTPBIN, settings=settings), {})


def test_a_local_module_reads_its_config_relative_to_the_module(tmp_path: Path) -> None:
    mod = tmp_path / "m"
    shutil.copytree(HELLO, mod)
    (mod / ".slimgo.yaml").write_text("build:\n  data: assets\n  base: scratch\n")
    (mod / "assets").mkdir()
    p = plan(BuildRequest(target=str(mod)), {})
    assert p.data_dir == mod / "assets" and p.base_name == "scratch" and p.target.module_root == mod
