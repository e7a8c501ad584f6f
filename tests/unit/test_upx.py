"""The UPX module's decisions that need no UPX: argument checks, lookup errors, refusals, cost arithmetic.

The fake executables here exist only to reach lookup error paths; packing and verifying run against the
real UPX in tests/integration/test_upx.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from slimgo.errors import BadInput, ToolMissing
from slimgo.platform import Platform
from slimgo.strategy import GoFlags
from slimgo.upx import policy, startup, tool
from slimgo.upx.step import preflight

AMD64 = Platform.parse("linux/amd64")


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_args_default_and_allowed() -> None:
    assert tool.parse_args(None) == ("--best", "--lzma")
    assert tool.parse_args("") == ("--best", "--lzma")
    assert tool.parse_args("-9 --nrv2e") == ("-9", "--nrv2e")
    assert tool.parse_args(["--ultra-brute"]) == ("--ultra-brute",)


@pytest.mark.parametrize("text", ["-o /etc/passwd", "--force", "-d", "--best -k", "--overlay=strip"])
def test_args_that_choose_files_or_modes_are_refused(text: str) -> None:
    with pytest.raises(BadInput, match="not a compression option"):
        tool.parse_args(text)


def test_args_unbalanced_quote() -> None:
    with pytest.raises(BadInput, match="--upx-args"):
        tool.parse_args("--best '")


def test_lookup_order_and_errors(tmp_path: Path) -> None:
    good = _script(tmp_path / "upx-good", 'echo "upx 4.2.3"; echo "UCL data compression library 1.03"')
    other = _script(tmp_path / "upx-other", 'echo "something 1.0"')
    old = _script(tmp_path / "upx-old", 'echo "upx 3.91"')
    assert tool.find(str(good), {}) == tool.Upx(good.resolve(), "4.2.3")
    # the explicit path wins over the variable, the variable over PATH
    assert tool.find(str(good), {"SLIMGO_UPX": str(other)}).version == "4.2.3"
    assert tool.find(None, {"SLIMGO_UPX": str(good), "PATH": ""}).path == good.resolve()
    with pytest.raises(BadInput, match=r"\$SLIMGO_UPX .*not UPX"):
        tool.find(None, {"SLIMGO_UPX": str(other)})
    with pytest.raises(BadInput, match="too old"):
        tool.find(str(old), {})
    with pytest.raises(BadInput, match="--upx-path .*not an executable file"):
        tool.find(str(tmp_path / "missing"), {})
    bindir = tmp_path / "bin"
    bindir.mkdir()
    assert tool.find(None, {"PATH": str(bindir)}) is None
    with pytest.raises(ToolMissing, match="apt install upx-ucl"):
        tool.require(None, {"PATH": str(bindir)})
    _script(bindir / "upx", 'echo "upx 4.2.3"')
    assert tool.find(None, {"PATH": str(bindir)}).path == bindir / "upx"


@pytest.mark.parametrize(("platform", "flags", "env", "needle"), [
    ("linux/s390x", GoFlags(), {}, "cannot pack linux/s390x"),
    ("linux/riscv64", GoFlags(), {}, "cannot pack linux/riscv64"),
    ("linux/amd64", GoFlags(ldflags="-s -w -buildmode=pie"), {}, "-buildmode=pie"),
    ("linux/arm64", GoFlags(), {"GOFLAGS": "-trimpath -buildmode=pie"}, "-buildmode=pie"),
    ("linux/amd64", GoFlags(env=(("GOFLAGS", "-buildmode=pie"),)), {}, "-buildmode=pie"),
    ("linux/amd64", GoFlags(cgo=True), {}, "CGO_ENABLED=0"),
    ("linux/amd64", GoFlags(cgo=None), {}, "CGO_ENABLED=0"),
])
def test_refusals_name_the_reason(platform: str, flags: GoFlags, env: dict[str, str], needle: str) -> None:
    why = policy.refusal(Platform.parse(platform), flags, env)
    assert why is not None and needle in why


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le"])
def test_packable_platforms_with_default_flags(platform: str) -> None:
    assert policy.refusal(Platform.parse(platform), GoFlags(), {"GOFLAGS": "-buildvcs=false"}) is None


def test_preflight_raises_bad_input_before_compiling() -> None:
    with pytest.raises(BadInput, match="s390x"):
        preflight([AMD64, Platform.parse("linux/s390x")], GoFlags(), {})
    preflight([AMD64], GoFlags(), {})


def test_check_packed_names_every_problem() -> None:
    # The Python interpreter: a dynamic, unpacked ELF for this machine.
    problems = policy.check_packed(Path(sys.executable).resolve(), Platform.parse("linux/arm64"))
    text = "; ".join(problems)
    assert "machine is amd64" in text and "dynamically linked" in text and "not packed" in text


def test_host_runs_natively_and_arm64_through_qemu_or_not_at_all() -> None:
    assert startup.launcher(AMD64) == startup.Launch((), False)
    arm = startup.launcher(Platform.parse("linux/arm64"))
    assert arm is None or (arm.emulated and "qemu-aarch64" in arm.prefix[0])


def test_cost_arithmetic_and_json() -> None:
    cost = startup.StartCost(5, False, 1.0, 41.5, 2_000_000, 2_400_000, 400_000, 6_400_000, 0.8, 36.3)
    doc = cost.to_json()
    assert doc["startup_ms_added"] == 40.5 and doc["private_bytes_added"] == 6_000_000
    assert doc["startup_cpu_ms_added"] == 35.5
    assert "median" in str(doc["method"]) and "qemu" not in str(doc["method"])
    assert "qemu" in str(startup.StartCost(5, True, 1, 2, 1, 1, 1, 1).to_json()["method"])


def test_a_file_that_cannot_be_executed_does_not_start(tmp_path: Path) -> None:
    text = tmp_path / "not-a-program"
    text.write_text("hello\n")
    sample = startup.first_thread(text, startup.Launch((), False))
    assert not sample.started and "could not be executed" in sample.reason
