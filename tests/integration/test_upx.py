"""UPX against the real UPX, real Go builds, qemu-user and the Docker engine.

Most packs use `-1` (about a second); the default `--best --lzma` runs in compare's upx rung
(test_compare.py). Reproducibility, verification and the cost report do not depend on the level.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from slimgo.gobuild.build import compile_binary
from slimgo.gobuild.target import resolve
from slimgo.gobuild.toolchain import find_toolchain
from slimgo.platform import Platform
from slimgo.strategy import GoFlags
from slimgo.upx import startup, tool
from tests.support.cli import slimgo
from tests.support.parts import HELLO, docker_run, require, unique_tag

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hello_sw(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> Path:
    toolchain = find_toolchain()
    out = tmp_path_factory.mktemp("hello-sw")
    return compile_binary(toolchain, resolve(str(HELLO), toolchain), GoFlags(), Platform.parse("linux/amd64"), out).path


def test_pack_is_reproducible_and_a_modified_packed_file_is_caught(upx: str, hello_sw: Path, tmp_path: Path) -> None:
    u = tool.require(upx, {})
    a, b = tmp_path / "a", tmp_path / "b"
    tool.pack(u, hello_sw, a, ("-1",))
    tool.pack(u, hello_sw, b, ("-1",))
    assert a.read_bytes() == b.read_bytes()  # same binary + same UPX → same packed bytes
    assert a.stat().st_size < hello_sw.stat().st_size * 0.6
    assert tool.test(u, a) == ""
    assert startup.first_thread(a, startup.Launch((), False)).started
    # Something touching the file after UPX (here: one byte of the compressed payload) is caught.
    data = bytearray(a.read_bytes())
    data[len(data) // 2] ^= 0xFF
    a.write_bytes(bytes(data))
    # upx -t checks the checksums: it catches this even though the program may still start (the changed byte
    # can land in data the runtime never reads at start-up), which is why verification runs both.
    assert "upx -t failed" in tool.test(u, a)


def test_build_upx_image_starts_is_reproducible_and_reports_its_cost(upx: str, docker: str, tmp_path: Path) -> None:
    runs = [slimgo("build", HELLO, "--upx-args", "-1", "--tarball", tmp_path / f"{i}.tar", "--no-reference",
                   "--json", env={"SLIMGO_UPX": upx}) for i in (1, 2)]
    for run in runs:
        assert run.code == 0, run.err
    first, second = (r.json() for r in runs)
    assert first["image_digest"] == second["image_digest"]
    assert (tmp_path / "1.tar").read_bytes() == (tmp_path / "2.tar").read_bytes()
    u = first["upx"]
    assert u["args"] == ["-1"] and u["version"]
    (p,) = u["platforms"]
    assert p["verified"] == {"upx_test": True, "elf": True, "starts": True} and p["emulated"] is False
    assert first["binary_bytes"] == p["binary_bytes_packed"] < p["binary_bytes_unpacked"]
    # the gain is measured on the layer (gzip already shrinks the unpacked one: at -1, UPX's layer can even be
    # larger, and the report says so with a negative saving), and the cost next to it
    assert p["pull_bytes_saved"] == p["layer_bytes_unpacked"] - p["layer_bytes_packed"]
    assert p["startup_ms_packed"] > p["startup_ms_unpacked"] > 0
    assert p["startup_cpu_ms_packed"] > p["startup_cpu_ms_unpacked"] > 0  # decompression is CPU work
    assert p["private_bytes_packed"] - p["private_bytes_unpacked"] > p["binary_bytes_unpacked"] // 2
    tag = unique_tag("upx")
    load = subprocess.run([docker, "load", "-i", str(tmp_path / "1.tar")], capture_output=True, text=True)
    assert load.returncode == 0, load.stderr
    loaded = load.stdout.strip().rsplit(" ", 1)[-1]
    try:
        subprocess.run([docker, "tag", loaded, tag], check=True)
        labels = json.loads(subprocess.run([docker, "image", "inspect", tag, "--format", "{{json .Config.Labels}}"],
                                           capture_output=True, text=True, check=True).stdout)
        assert labels["dev.slimgo.upx"].endswith(" -1")
        assert labels["org.opencontainers.image.title"] == "hello"  # read from the unpacked binary
        check = docker_run(docker, tag, "-check")
        assert check.returncode == 0, check.stderr
        facts = json.loads(check.stdout)
        assert facts["ca_roots"] > 0 and facts["asia_shanghai"] == "CST +0800" and facts["uid"] == 65532
    finally:
        subprocess.run([docker, "rmi", "-f", tag, loaded], capture_output=True)


@pytest.mark.parametrize(("args", "needle"), [
    (["--env", "CGO_ENABLED=1"], "CGO_ENABLED=0"),
    (["--ldflags", "-buildmode=pie"], "-buildmode=pie"),
    (["--platform", "linux/amd64,linux/s390x"], "cannot pack linux/s390x"),
    (["--upx-args", "-o /tmp/elsewhere"], "not a compression option"),
    (["--upx-path", "/nonexistent/upx"], "--upx-path /nonexistent/upx: not an executable file"),
    (["--debug"], "--upx and --debug do not go together"),
])
def test_refusals_come_before_compiling(args: list[str], needle: str, upx: str, tmp_path: Path, go_bin: str) -> None:
    run = slimgo("build", HELLO, "--upx", *args, "--tarball", tmp_path / "x.tar", env={"SLIMGO_UPX": upx})
    assert run.code == 2, run.err
    assert needle in run.err and "Traceback" not in run.err
    assert "compiling" not in run.err  # decided from the flags alone
    assert not (tmp_path / "x.tar").exists()


def test_upx_missing_is_a_one_line_error(tmp_path: Path, go_bin: str) -> None:
    env = {"PATH": os.path.dirname(go_bin), "SLIMGO_UPX": ""}
    run = slimgo("build", HELLO, "--upx", "--tarball", tmp_path / "x.tar", env=env)
    assert run.code == 2 and "UPX is not installed" in run.err and "apt install upx-ucl" in run.err


def test_slimgo_yaml_turns_upx_on(upx: str, tmp_path: Path, go_bin: str) -> None:
    mod = tmp_path / "mod"
    mod.mkdir()
    for name in ("go.mod", "main.go"):
        (mod / name).write_text((HELLO / name).read_text())
    (mod / ".slimgo.yaml").write_text("build:\n  upx: true\n  upx_args: '--force'\n")
    run = slimgo("build", mod, "--tarball", tmp_path / "x.tar", env={"SLIMGO_UPX": upx})
    assert run.code == 2 and "'--force' is not a compression option" in run.err


def test_compare_upx_rung_on_arm64_under_qemu(upx: str, go_bin: str) -> None:
    require(startup.launcher(Platform.parse("linux/arm64")) is not None, "qemu-aarch64 is not installed")
    run = slimgo("compare", HELLO, "--strategies", "upx", "--platform", "linux/arm64", "--port", "18632",
                 "--run-args", "-addr :18632", "--no-engine", "--json", env={"SLIMGO_UPX": upx}, timeout=600)
    assert run.code == 0, run.err
    (v,) = run.json()["variants"]
    assert v["name"] == "upx" and v["platform"] == "linux/arm64" and not v["skipped"], v["reason"]
    assert v["checks"]["starts"] is True and v["checks"]["panic_file_line"] is True  # the packed probe ran too
    assert v["startup_ms"] > 0 and v["rss_bytes"] > 0 and v["pull_bytes"] > 0
    assert v["upx"]["emulated"] is True and v["upx"]["startup_ms_added"] > 0
