"""The CLI in-process (argument parsing, error mapping, exit codes, JSON on stdout) and the inspect stage on
a real Go binary that is already on the machine (the toolchain's own `go`: no build, no download)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from slimgo.base.model import Base
from slimgo.errors import BadInput
from slimgo.gobuild.build import BuiltBinary
from slimgo.gobuild.target import Target
from slimgo.platform import Platform
from slimgo.sources.local import open_image
from slimgo.stages.inspect import inspect
from slimgo.stages.labels import image_labels
from slimgo.strategy import DEFAULT
from tests.support.cli import run
from tests.support.parts import require


def test_help_lists_every_verb() -> None:
    r = run("--help")
    assert r.code == 0
    for verb in ("analyze", "base", "build", "compare", "dockerfile", "lint"):
        assert f"  {verb} " in r.out


@pytest.mark.parametrize("args,needle", [
    (("build", "--username", "u"), "--username needs --password-stdin"),
    (("build", "--password-stdin"), "--password-stdin needs --username"),
    (("compare", "--runs", "0"), "Invalid value for '--runs'"),
    (("analyze", "--diff", "one"), "--diff takes exactly two binaries"),
    (("analyze", "a", "b"), "analyze takes one binary or image"),
    (("base", "push"), "give a REF to push to"),
    (("lint",), "give one or more Dockerfiles"),
    (("build", "--compression", "brotli"), "Invalid value for '--compression'"),
    (("nope",), "No such command"),
])
def test_usage_errors_exit_2_with_one_line(args: tuple[str, ...], needle: str) -> None:
    r = run(*args)
    assert r.code == 2 and needle in r.err and r.out == ""
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err


def test_missing_file_and_unknown_image_are_bad_input(tmp_path: Path) -> None:
    r = run("analyze", tmp_path / "absent")
    assert r.code == 2 and "no such file" in r.err
    r = run("analyze", f"oci:{tmp_path}")
    assert r.code == 2 and "not an OCI image layout" in r.err


def test_base_push_to_a_layout_in_process(tmp_path: Path) -> None:
    r = run("base", "push", "--oci-layout", tmp_path / "base", "--variant", "minimal", "--platform",
            "linux/arm64,linux/arm/v7", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["variant"] == "minimal" and doc["base"] == "static-minimal"
    assert doc["platforms"] == ["linux/arm64", "linux/arm/v7"]
    assert doc["oci_layout"] == str(tmp_path / "base") and doc["refs"] == []
    images = open_image(f"oci:{tmp_path / 'base'}")
    assert [i.platform.key for i in images] == ["linux/arm64", "linux/arm/v7"]
    assert images[0].config["config"]["User"] == "65532:65532"


@pytest.fixture(scope="module")
def go_tool() -> Path:
    go = shutil.which("go")
    require(go is not None, "the Go toolchain is not installed (its `go` binary is the sample Go program)")
    assert go is not None
    return Path(go).resolve()


def test_inspect_reads_once_what_labels_linking_and_base_need(go_tool: Path) -> None:
    binary = BuiltBinary(go_tool, "go", Platform.parse("linux/amd64"), DEFAULT.flags, 0.0, go_tool.stat().st_size)
    facts = inspect(binary)
    assert facts.buildinfo is not None and facts.buildinfo.go_version.startswith("go")
    assert facts.needs is not None and not facts.dynamic and facts.needed == ()
    base = Base("slimgo/static", (), {}, "sha256:" + "0" * 64, frozenset())
    assert facts.missing_from(base) == []
    facts.check_fits(base)
    labels = image_labels(Target(package="cmd/go", name="go", module_path="cmd"), facts.buildinfo, base)
    assert labels["org.opencontainers.image.title"] == "go"
    assert labels["org.opencontainers.image.base.digest"] == base.digest
    assert inspect(binary, with_needs=False).needs is None


def test_a_dynamic_binary_is_refused_on_a_base_without_its_libc(go_tool: Path) -> None:
    sh = Path(shutil.which("sh") or "/bin/sh").resolve()
    binary = BuiltBinary(sh, "sh", Platform.parse("linux/amd64"), DEFAULT.flags, 0.0, sh.stat().st_size)
    facts = inspect(binary, with_needs=False)
    require(facts.dynamic, "/bin/sh here is static: no dynamic sample binary")
    scratch = Base("scratch", (), {}, "", frozenset())
    assert facts.interpreter in facts.missing_from(scratch)
    with pytest.raises(BadInput, match="dynamically linked .* lacks"):
        facts.check_fits(scratch)


def test_analyze_in_process_text_json_and_diff(go_tool: Path) -> None:
    doc = json.loads(run("analyze", go_tool, "--json").out)
    assert doc["schema_version"] == 1 and doc["file_bytes"] == go_tool.stat().st_size
    assert doc["go_binary"] is True and doc["main_package"] == "cmd/go" and doc["go_version"].startswith("go")
    text = run("analyze", go_tool, "--by", "module", "--top", "3")
    assert text.code == 0 and "go1." in text.out
    diff = run("analyze", "--diff", go_tool, go_tool, "--json")
    assert diff.code == 0 and json.loads(diff.out)["file_bytes"]["delta"] == 0
    assert json.loads(diff.out)["packages"] == []  # a binary against itself: nothing changed
    assert run("analyze", "--diff", go_tool, go_tool).code == 0
