"""Issue 11, the `build` and `base push` points on real parts: real `go build`s of the example and of
small modules written here, the Docker engine's API, a local registry, real signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from slimgo.binary.analysis import analyze_file
from slimgo.config import BuildConfig
from slimgo.pipeline import BuildRequest, build
from tests.support.cli import slimgo
from tests.support.parts import HELLO, require
from tests.support.registry import have_registry, registry

pytestmark = pytest.mark.integration


def _error_doc(out: str) -> dict:
    doc = json.loads(out)
    assert set(doc) == {"schema_version", "error"}
    return doc["error"]


def _module(root: Path, body: str, name: str = "app") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.21\n")
    (root / "main.go").write_text(body)
    return root


def test_goarch_in_env_becomes_the_platform(tmp_path: Path, go_bin: str) -> None:  # point 1
    run = slimgo("build", HELLO, "--env", "GOARCH=arm64", "--oci-layout", tmp_path / "l", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert [p["platform"] for p in doc["platforms"]] == ["linux/arm64"]
    index = json.loads((tmp_path / "l" / "index.json").read_text())
    manifest = json.loads((tmp_path / "l/blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
    config = json.loads((tmp_path / "l/blobs/sha256" / manifest["config"]["digest"][7:]).read_text())
    assert config["architecture"] == "arm64"
    binary_layer = tmp_path / "l/blobs/sha256" / manifest["layers"][-1]["digest"][7:]
    listing = subprocess.run(["tar", "-xzf", str(binary_layer), "-C", str(tmp_path)], capture_output=True)
    assert listing.returncode == 0
    assert analyze_file(tmp_path / "app" / "hello").machine == "arm64"
    refused = slimgo("build", HELLO, "--env", "GOOS=windows", "--tarball", tmp_path / "w.tar")
    assert refused.code == 2 and "--platform" in refused.err and "compiling" not in refused.err
    both = slimgo("build", HELLO, "--env", "GOARCH=arm64", "--platform", "linux/amd64", "--tarball", tmp_path / "b.tar")
    assert both.code == 2 and "conflicts with --platform" in both.err


@pytest.mark.parametrize("args,needle", [
    (["--user=-5"], "is not a valid id"),
    (["--data", "{file}"], "is a file; --data takes a directory"),
    (["--tarball", "/proc/slimgo-x.tar"], "/proc/slimgo-x.tar: cannot write in /proc"),
    (["--oci-layout", "/proc/slimgo-layout"], "/proc/slimgo-layout: cannot write in /proc"),
])
def test_bad_input_is_refused_before_compiling(tmp_path: Path, go_bin: str, args: list[str],
                                               needle: str) -> None:  # points 9, 10
    data = tmp_path / "data.txt"
    data.write_text("x")
    argv = [a.replace("{file}", str(data)) for a in args]
    run = slimgo("build", HELLO, *argv, "--json", cwd=tmp_path)
    assert run.code == 2, run.err
    assert needle in run.err and "compiling" not in run.err and ".tmp" not in run.err
    assert _error_doc(run.out)["code"] == 2  # point 13
    assert not (tmp_path / "dist").exists()


def test_load_with_no_engine_fails_before_compiling(tmp_path: Path, go_bin: str) -> None:  # point 10
    run = slimgo("build", HELLO, "--load", env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}, cwd=tmp_path)
    assert run.code == 2 and "--load" in run.err and "compiling" not in run.err


def test_failed_or_interrupted_builds_leave_no_dist(tmp_path: Path, go_bin: str) -> None:  # point 11
    broken = _module(tmp_path / "broken", "package main\n\nfunc main() { undefined() }\n")
    run = slimgo("build", broken, "--json", cwd=tmp_path)
    assert run.code == 1 and _error_doc(run.out)["code"] == 1  # point 13: a compile error, as JSON too
    assert not (tmp_path / "dist").exists()
    # Ctrl-C while Go compiles: exit 130, and still no dist/. An empty Go build cache gives Go seconds of
    # work (net/http and the runtime from source), so the signal lands mid-compile even on a loaded machine;
    # with a warm cache the whole build could end before a slow test process sends it (seen in CI: exit -2).
    slow = _module(tmp_path / "slow", "package main\n\nimport _ \"net/http\"\n\nfunc main() {}\n"
                   f"\nconst id = \"{uuid.uuid4()}\"\n", name="slow")
    proc = subprocess.Popen([sys.executable, "-m", "slimgo", "build", str(slow)], cwd=tmp_path, text=True,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            env={**os.environ, "GOCACHE": str(tmp_path / "empty-go-cache")})
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("compiling"):
            proc.send_signal(signal.SIGINT)
            break
    seen.append(proc.stderr.read())
    assert proc.wait(timeout=120) == 130, "".join(seen)
    assert not (tmp_path / "dist").exists()


def test_an_interrupt_after_the_outputs_are_in_place_is_success(tmp_path: Path, go_bin: str) -> None:  # 7
    def progress(msg: str) -> None:
        if msg == "every output is in place":  # a real Ctrl-C at that moment
            os.kill(os.getpid(), signal.SIGINT)

    result = build(BuildRequest(target=str(HELLO), settings=BuildConfig(), tarball=tmp_path / "a.tar"), progress)
    assert (tmp_path / "a.tar").is_file() and result.outputs["tarball"] == str(tmp_path / "a.tar")
    assert any("interrupted after every output was in place" in n for n in result.notes)
    assert not list(tmp_path.glob(".a.tar.*"))


def test_phases_and_cgo_and_reference(tmp_path: Path, go_bin: str) -> None:  # points 15, 16, rough edge
    fresh = _module(tmp_path / "fresh", f"package main\n\nfunc main() {{ println(\"{uuid.uuid4()}\") }}\n")
    run = slimgo("build", fresh, "--tarball", tmp_path / "f.tar", "--json")
    assert run.code == 0, run.err
    assert "resolving" in run.err and "linking app" in run.err
    doc = run.json()
    assert doc["reference_binary_bytes"] is None  # one compile unless --reference
    text = slimgo("build", fresh, "--tarball", tmp_path / "g.tar", "--reference")
    assert text.code == 0 and "measured in this run (--reference)" in text.out
    assert slimgo("build", fresh, "--tarball", tmp_path / "h.tar", "--no-reference").code == 0  # still accepted
    cgo = _module(tmp_path / "cgo", 'package main\n\n// #include <stdlib.h>\nimport "C"\n\nfunc main() { C.free(nil) }\n')
    run = slimgo("build", cgo, "--tarball", tmp_path / "c.tar")
    assert run.code == 2 and 'uses cgo (import "C" in main.go)' in run.err and "CGO_ENABLED=1" in run.err


@pytest.mark.network
def test_missing_module_version_keeps_go_s_words(tmp_path: Path, go_bin: str) -> None:  # point 15
    run = slimgo("build", "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v9.9.9", "--tarball", tmp_path / "x.tar")
    assert run.code == 2
    line = next(ln for ln in run.err.splitlines() if ln.startswith("slimgo: error:"))
    assert "go-httpbin@v9.9.9" in line and "the module proxy answered 4" in line


def test_base_push_reports_variant_and_tag(tmp_path: Path) -> None:  # point 22
    require(have_registry(), "docker-registry is not installed (apt-get install docker-registry)")
    with registry(tmp_path / "reg") as host:
        run = slimgo("base", "push", f"{host}/bases/static:full", "--platform", "linux/amd64", "--json")
        assert run.code == 0, run.err
        doc = run.json()
        assert doc["variant"] == "full" and doc["base"] == "static"
        assert doc["tags"] == [f"{host}/bases/static:full"]
        assert doc["refs"] == [f"{host}/bases/static@{doc['digest']}"]
        minimal = slimgo("base", "push", f"{host}/bases/static:min", "--variant", "minimal", "--platform",
                         "linux/amd64", "--json").json()
        assert minimal["variant"] == "minimal" and minimal["base"] == "static-minimal"


def test_daemon_base_layers_stored_uncompressed_are_noted(tmp_path: Path, docker: str, go_bin: str) -> None:
    tag = f"slimgo-bugs-base-{uuid.uuid4().hex[:8]}:1"
    pub = slimgo("base", "push", "--tarball", tmp_path / "base.tar", "--tag", tag, "--platform", "linux/amd64")
    assert pub.code == 0, pub.err
    subprocess.run([docker, "load", "-i", str(tmp_path / "base.tar")], check=True, capture_output=True)
    try:
        run = slimgo("build", HELLO, "--base", f"docker-daemon:{tag}", "--tarball", tmp_path / "a.tar", "--json")
        assert run.code == 0, run.err
        assert any("stored uncompressed, as the engine exported them" in n for n in run.json()["notes"])
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True)
