"""Issue 11, the `compare` points that need real parts: the measuring sandbox with real static binaries
(busybox, a Go program), the Docker engine's zstd support measured, and skopeo (Go's zstd decoder, the
one containerd and Docker >= 23 use) reading slimgo's zstd layers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from slimgo.compare.engine import Engine
from slimgo.compare.sandbox import Command, run_capture, run_to_exit
from tests.support.cli import slimgo
from tests.support.parts import HELLO, require
from tests.support.registry import free_port

pytestmark = pytest.mark.integration

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
SHORT_LIVED = """package main

import (
	"fmt"
	"os"
)

func main() {
	b := make([]byte, 8<<20)
	for i := range b {
		b[i] = byte(i)
	}
	fmt.Println(b[100], len(os.Args))
}
"""


def _root(tmp: Path, name: str, binary: Path) -> Path:
    root = tmp / "root"
    (root / "app").mkdir(parents=True)
    os.chmod(root, 0o755)
    shutil.copy(binary, root / "app" / name)
    return root


def test_sandbox_has_proc_sys_dev_and_shows_why_a_program_stopped(tmp_path: Path) -> None:  # point 20
    require(os.geteuid() == 0 and Path(BUSYBOX).exists(), "needs root and busybox-static (scripts/test.sh)")
    root = _root(tmp_path, "busybox", Path(BUSYBOX))
    code, out = run_capture(Command(root, ["/app/busybox", "sh", "-c",
                                           "head -1 /proc/self/status; ls /sys/kernel >/dev/null && echo sys; "
                                           "echo x > /dev/null && head -c 4 /dev/urandom | wc -c"],
                                    {"PATH": "/app"}, 65532, 65532), timeout=30)
    assert code == 0, out
    assert out.split() == ["Name:", "head", "sys", "4"]
    failed = run_to_exit(Command(root, ["/app/busybox", "sh", "-c", "echo 'failed to open procfs' >&2; exit 3"],
                                 {}, 65532, 65532), grace=10)
    assert not failed.ok and "exited with status 3" in failed.reason and "failed to open procfs" in failed.reason
    # the namespace's mounts never reach the host
    assert str(root) not in Path("/proc/mounts").read_text()


def test_peak_memory_of_a_short_lived_program_is_stable(tmp_path: Path, go_bin: str) -> None:  # point 4
    require(os.geteuid() == 0, "the sandbox needs root (mount namespace, chroot)")
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/short\n\ngo 1.21\n")
    (src / "main.go").write_text(SHORT_LIVED)
    subprocess.run([go_bin, "build", "-o", str(tmp_path / "short"), "."], cwd=src, check=True,
                   env={**os.environ, "CGO_ENABLED": "0"})
    root = _root(tmp_path, "short", tmp_path / "short")
    peaks = []
    for _ in range(5):
        r = run_to_exit(Command(root, ["/app/short"], {}, 65532, 65532), grace=10)
        assert r.ok and r.elapsed_ms and r.output == "100 1", r
        assert r.peak_rss is not None
        peaks.append(r.peak_rss)
    assert min(peaks) > 8 << 20  # the 8 MiB buffer it touched is in every reading
    assert max(peaks) - min(peaks) < 0.05 * min(peaks), peaks


def test_engine_zstd_support_is_measured_not_assumed(tmp_path: Path, docker: str) -> None:  # point 19
    engine = Engine(docker, f"bugs{uuid.uuid4().hex[:6]}")
    version = engine.version()
    error = engine.zstd_error(tmp_path, "amd64")
    major = int(version.split(".")[0])
    if major < 23:  # Docker 20.10 has no zstd in its layer decompressor: the frame is read as a plain tar
        assert "invalid tar header" in error
    else:
        assert error == ""


def test_zstd_layers_decode_with_gos_zstd_reader(tmp_path: Path, skopeo: str, go_bin: str) -> None:  # 19
    run = slimgo("build", HELLO, "--compression", "zstd", "--oci-layout", tmp_path / "l", "-t", "z:1",
                 "--no-reference")
    assert run.code == 0, run.err
    subprocess.run([skopeo, "copy", "--dest-decompress", f"oci:{tmp_path / 'l'}:1", f"dir:{tmp_path / 'd'}"],
                   check=True, capture_output=True)
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    config = json.loads((tmp_path / "d" / manifest["config"]["digest"].split(":")[1]).read_text())
    for diff_id in config["rootfs"]["diff_ids"]:  # each layer decompressed to exactly its diff_id
        assert (tmp_path / "d" / diff_id.split(":")[1]).exists()


def test_quick_compare_with_few_runs_in_the_sandbox(go_bin: str) -> None:  # --runs < 5, wording, point 20
    require(os.geteuid() == 0, "the sandbox needs root (mount namespace, chroot)")
    port = free_port()
    run = slimgo("compare", HELLO, "--port", str(port), "--run-args", f"-addr :{port}",
                 "--strategies", "ldflags-sw", "--runs", "2", "--no-engine",
                 "--json", timeout=300)
    assert run.code == 0, run.err
    doc = run.json()
    assert any("medians of fewer than 5 runs are noisy" in n for n in doc["notes"])
    assert "building 1 variant\n" in run.err and "1 variants" not in run.err
    v = doc["variants"][0]
    assert v["measured_runs"] == 2 and v["checks"]["starts"] is True
    assert len(v["startup_ms_range"]) == 2 and v["rss_bytes_range"][0] <= v["rss_bytes"] <= v["rss_bytes_range"][1]
