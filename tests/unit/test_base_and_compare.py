"""Base selection (what the static base keeps, which platform a base serves, a local base read and verified)
and compare's verdict and carry-over, on real images assembled in-process."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from slimgo.base import remote
from slimgo.base.resolve import resolve_embedded
from slimgo.base.selection import KEEP_EVERYTHING_HINT, static_spec_for
from slimgo.base.static import StaticBaseSpec
from slimgo.binary.needs import Needs
from slimgo.compare.build import BuiltVariant
from slimgo.compare.core import CompareResult, VariantResult, _carry_over
from slimgo.compare.variants import from_config, ladder, select
from slimgo.errors import BadInput, ImageFormatError
from slimgo.gobuild.target import Target
from slimgo.oci.cache import LayerCache
from slimgo.oci.layer import file_entry, write_layer
from slimgo.oci.model import ImageConfig
from slimgo.oci.reference import Reference
from slimgo.platform import Platform
from slimgo.registries import RegistryPool
from slimgo.sinks.content import Published
from slimgo.sinks.layout import LayoutSink
from slimgo.stages.assemble import Addendum, artifact_of, assemble
from slimgo.strategy import DEFAULT, PLAIN

NEEDS_NOTHING = Needs(ca_roots=False, zoneinfo=False, tzdata_embedded=False, loads_zones=False, user_db=False,
                      dns=False, cgo_resolver=False, cgo=False, dynamic=False, plugins=False)


def test_static_base_keeps_only_what_is_needed() -> None:
    spec, notes = static_spec_for(NEEDS_NOTHING, "app")
    assert spec == StaticBaseSpec(ca_roots=False, zoneinfo=False) and spec.name == "static-minimal"
    assert any("CA bundle left out" in n for n in notes) and notes[-1] == KEEP_EVERYTHING_HINT
    spec, notes = static_spec_for(replace(NEEDS_NOTHING, ca_roots=True, tzdata_embedded=True), "app")
    assert spec == StaticBaseSpec(ca_roots=True, zoneinfo=False)
    assert notes == ["app: zoneinfo left out of the base (time/tzdata is embedded)", KEEP_EVERYTHING_HINT]
    # unreadable needs (a packed binary): nothing is guessed away
    spec, notes = static_spec_for(None, "app")
    assert spec == StaticBaseSpec() and "unreadable" in notes[0]


def _image(tmp: Path, platform: str, payload: bytes, compression: str = "gzip"):  # type: ignore[no-untyped-def]
    p = Platform.parse(platform)
    base = resolve_embedded("scratch", p.oci(), tmp / "blobs", None, compression, 3)
    layer = write_layer([file_entry("app/x", payload, 0o755)], tmp / "blobs", compression=compression,
                        comment="x binary")
    cfg = ImageConfig(platform=p.oci(), created="1970-01-01T00:00:00Z", entrypoint=["/app/x"])
    return assemble(base, [Addendum(layer, "test", "x binary")], cfg)


def _layout_base(tmp: Path) -> str:
    artifact = artifact_of([_image(tmp, "linux/amd64", b"a"), _image(tmp, "linux/arm/v7", b"b")])
    LayoutSink(tmp / "base").publish(Published(artifact, (Reference.parse("base:1"),)))
    return f"oci:{tmp / 'base'}:1"


def test_local_base_serves_the_wanted_platforms(tmp_path: Path) -> None:
    spec = _layout_base(tmp_path)
    cache = LayerCache(tmp_path / "cache")
    [arm] = remote.resolve(spec, [Platform.parse("linux/arm")], cache, RegistryPool())
    assert arm.platform.key == "linux/arm/v7" and arm.name == spec and arm.digest.startswith("sha256:")
    assert arm.layers[0].path.is_relative_to(tmp_path / "cache")  # materialised, verified, reused from there
    assert arm.layers[0].uncompressed_size > 0
    both = remote.resolve(spec, None, cache, RegistryPool())
    assert [b.platform.key for b in both] == ["linux/amd64", "linux/arm/v7"]
    with pytest.raises(BadInput, match="linux/arm64 is not in base .* offers linux/amd64, linux/arm/v7"):
        remote.resolve(spec, [Platform.parse("linux/arm64")], cache, RegistryPool())


def test_local_base_with_a_corrupted_layer_is_refused(tmp_path: Path) -> None:
    spec = _layout_base(tmp_path)
    [blob] = [p for p in (tmp_path / "base" / "blobs" / "sha256").iterdir() if p.stat().st_size > 60
              and p.read_bytes()[:2] == b"\x1f\x8b"][:1]
    blob.write_bytes(blob.read_bytes()[:-8] + bytes(8))
    with pytest.raises(ImageFormatError, match="digest mismatch"):
        remote.resolve(spec, None, LayerCache(tmp_path / "cache"), RegistryPool())


def _result(name: str, image, checks: dict[str, bool | None], compression: str = "gzip"):  # type: ignore[no-untyped-def]
    spec = replace(DEFAULT, name=name, compression=compression)
    r = VariantResult(BuiltVariant(spec, Platform.parse("linux/amd64"), image=image, probe=image))
    r.checks = dict(checks)
    return r


ALL_PASS = {"starts": True, "ca_roots": True, "tz": None, "dns": True, "user_db": None, "panic_file_line": True,
            "no_shell": True, "nonroot": True}


def test_verdict_picks_the_smallest_passing_and_one_for_every_engine(tmp_path: Path) -> None:
    big = _image(tmp_path / "big", "linux/amd64", bytes(range(256)) * 400)
    small = _image(tmp_path / "small", "linux/amd64", b"small")
    zstd = _image(tmp_path / "zstd", "linux/amd64", b"s", compression="zstd")
    results = [_result("big", big, ALL_PASS), _result("small", small, {**ALL_PASS, "no_shell": False}),
               _result("zstd", zstd, ALL_PASS, compression="zstd")]
    target = Target(package="example.com/x", name="x")
    verdict = CompareResult(target, results, None, "docker", {}, []).verdict()
    assert verdict["best"] == "zstd" and verdict["best_every_engine"] == "big"  # "small" fails no_shell
    assert any("zstd layers" in n for n in verdict["compatibility"])
    assert CompareResult(target, results, None, "docker", {}, []).exit_code == 0
    none_pass = [_result("a", big, {**ALL_PASS, "starts": False})]
    assert CompareResult(target, none_pass, None, "docker", {}, []).verdict()["best"] is None


def test_carry_over_only_between_identical_diff_ids(tmp_path: Path) -> None:
    gz = _image(tmp_path / "gz", "linux/amd64", b"same")
    zs = _image(tmp_path / "zs", "linux/amd64", b"same", compression="zstd")
    other = _image(tmp_path / "other", "linux/amd64", b"different", compression="zstd")
    assert gz.config["rootfs"]["diff_ids"] == zs.config["rootfs"]["diff_ids"] and gz.digest != zs.digest
    twin = _result("ldflags-sw", gz, ALL_PASS)
    twin.engine_loaded = True
    unloaded = _result("zstd", zs, {})
    unloaded.engine_error = "engine cannot load zstd"
    lonely = _result("other", other, {})
    lonely.engine_error = "engine cannot load zstd"
    _carry_over([twin, unloaded, lonely])
    carried = [k for k in ALL_PASS if k != "starts"]
    assert unloaded.carried_over == carried and all(unloaded.checks[k] == ALL_PASS[k] for k in carried)
    assert unloaded.reasons["ca_roots"].startswith("carried over from ldflags-sw (identical diff_ids)")
    assert unloaded.checks["starts"] is None  # never carried: it comes from the variant's own run
    assert lonely.carried_over == [] and lonely.checks == {"starts": None}


def test_one_strategy_vocabulary() -> None:
    names = [s.name for s in ladder()]
    assert names == ["baseline", "default", "cgo-off", "trimpath", "ldflags-sw", "strip", "scratch", "zstd", "upx"]
    assert ladder()[1] is PLAIN and ladder()[4] is DEFAULT
    assert DEFAULT.dockerfile_flags() == 'CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app .'
    user = from_config("tiny", {"strip": True, "upx": True, "base": "scratch"}, ".slimgo.yaml")
    assert user.post == ("strip", "upx") and user.post_commands("/b") == ["strip --strip-all /b",
                                                                         "upx --best --lzma /b"]
    assert user.build_command("./cmd") == "slimgo build ./cmd --base scratch"
    assert [s.name for s in select(ladder(), "zstd,default")] == ["zstd", "default"]
    with pytest.raises(BadInput, match="unknown strategy 'nope'"):
        select(ladder(), "nope")


def test_compare_document_renders_as_text_markdown_and_html(tmp_path: Path) -> None:
    from rich.console import Console

    from slimgo.report.compare_view import html_report, markdown, render

    small = _image(tmp_path / "small", "linux/amd64", b"small")
    results = [_result("ldflags-sw", small, ALL_PASS)]
    results[0].built.binary_bytes = 5
    doc = CompareResult(Target(package="example.com/x", name="x", version=None), results, NEEDS_NOTHING, "docker",
                        {"total": 1.0}, ["a note"]).to_json()
    assert doc["verdict"]["best"] == "ldflags-sw" and doc["needs"]["ca_roots"] is False
    assert "ldflags-sw" in markdown(doc) and "ldflags-sw" in html_report(doc)
    console = Console(record=True, width=200)
    render(doc, console)
    assert "ldflags-sw" in console.export_text()
