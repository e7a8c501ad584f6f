"""The generated Dockerfile, built by a real Docker engine with BuildKit (Debian's 20.10, offline), on
builder and runtime images the test makes itself: it runs, lints clean, and its binary has the same
build settings as slimgo build's."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import slimgo
from tests.support.images import ensure_builder_image, ensure_static_image
from tests.support.parts import HELLO, http_get, require, unique_tag

pytestmark = pytest.mark.integration
BUILDER = "slimgo-test/gobuilder:2"
RUNTIME = "slimgo-test/static:1"
SETTINGS = ("CGO_ENABLED", "GOOS", "GOARCH", "-trimpath", "-ldflags")


@pytest.fixture(scope="module")
def images(docker: str, go_bin: str) -> tuple[str, str]:
    require(shutil.which("busybox") is not None, "busybox-static is not installed (the builder image's shell)")
    return ensure_builder_image(BUILDER), ensure_static_image(RUNTIME)


def _docker_build(docker: str, context: Path, tag: str, images: tuple[str, str], dockerfile: str = "Dockerfile") -> None:
    proc = subprocess.run([docker, "build", "-q", "-f", str(context / dockerfile), "--build-arg", f"BUILDER_IMAGE={images[0]}",
                           "--build-arg", f"RUNTIME_IMAGE={images[1]}", "-t", tag, str(context)],
                          capture_output=True, text=True, env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"},
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _settings_from_image(docker: str, tag: str, tmp: Path) -> dict[str, str]:
    saved = tmp / f"{tag.replace('/', '_').replace(':', '_')}.tar"
    subprocess.run([docker, "save", "-o", str(saved), tag], check=True)
    run = slimgo("analyze", f"docker-archive:{saved}", "--json")
    assert run.code == 0, run.err
    binaries = run.json()["binaries"]
    assert len(binaries) == 1
    return _settings(binaries[0])


def _settings(binary: dict) -> dict[str, str]:
    """The build settings compared. Go omits -ldflags from the build info when -trimpath is on
    (golang/go#52372), so the effect of -s -w is compared through what was stripped."""
    out = {k: binary["build_settings"].get(k, "") for k in SETTINGS}
    out["stripped"] = json.dumps(binary["stripped"], sort_keys=True)
    return out


def _settings_from_slimgo(src: Path, tmp: Path) -> dict[str, str]:
    run = slimgo("build", src, "--oci-layout", tmp / "sg-layout", "--json", "--no-reference")
    assert run.code == 0, run.err
    res = slimgo("analyze", f"oci:{tmp / 'sg-layout'}", "--json")
    return _settings(res.json()["binaries"][0])


def test_generated_dockerfile_for_hello(tmp_path: Path, docker: str, images: tuple[str, str]) -> None:
    src = tmp_path / "hello"
    shutil.copytree(HELLO, src)
    gen = slimgo("dockerfile", src)
    assert gen.code == 0, gen.err
    text = (src / "Dockerfile").read_text()
    assert "# syntax" not in text and "<<" not in text  # builds on Docker 20.10's built-in BuildKit
    assert (src / ".dockerignore").exists()
    lint = slimgo("lint", src / "Dockerfile", "--json")
    assert lint.code == 0, lint.out
    assert [f for f in lint.json()["findings"] if f["severity"] in ("error", "warning")] == []
    tag = unique_tag("df-hello")
    _docker_build(docker, src, tag, images)
    proc = subprocess.run([docker, "run", "--rm", tag, "-check"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    check = json.loads(proc.stdout)
    assert check["uid"] == 65532 and check["asia_shanghai"] == "CST +0800" and check["shell_absent"]
    assert _settings_from_image(docker, tag, tmp_path) == _settings_from_slimgo(src, tmp_path)


def test_generated_dockerfile_for_a_real_module(tmp_path: Path, docker: str, images: tuple[str, str]) -> None:
    proc = subprocess.run(["go", "mod", "download", "-json", "github.com/mccutchen/go-httpbin/v2@v2.26.0"],
                          capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    src = tmp_path / "httpbin"
    shutil.copytree(json.loads(proc.stdout)["Dir"], src)
    subprocess.run(["chmod", "-R", "u+w", str(src)], check=True)
    gen = slimgo("dockerfile", src / "cmd" / "go-httpbin", "-o", src / "Dockerfile.slimgo")
    assert gen.code == 0, gen.err
    lint = slimgo("lint", src / "Dockerfile.slimgo", "--json")
    assert [f for f in lint.json()["findings"] if f["severity"] in ("error", "warning")] == []
    tag = unique_tag("df-httpbin")
    _docker_build(docker, src, tag, images, "Dockerfile.slimgo")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cid = subprocess.run([docker, "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8080", tag], capture_output=True,
                         text=True, check=True).stdout.strip()
    try:
        assert http_get(f"http://127.0.0.1:{port}/get")[0] == 200
    finally:
        subprocess.run([docker, "rm", "-f", cid], capture_output=True)
    settings = _settings_from_image(docker, tag, tmp_path)
    assert settings["CGO_ENABLED"] == "0" and settings["-trimpath"] == "true"
    assert json.loads(settings["stripped"]) == {"symbols": True, "dwarf": True}
    assert settings == _settings_from_slimgo_remote(tmp_path)


def _settings_from_slimgo_remote(tmp: Path) -> dict[str, str]:
    run = slimgo("build", "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0", "--oci-layout",
                 tmp / "sg-httpbin", "--no-reference")
    assert run.code == 0, run.err
    res = slimgo("analyze", f"oci:{tmp / 'sg-httpbin'}", "--json")
    return _settings(res.json()["binaries"][0])


def test_generated_dockerfile_for_a_vendored_module(tmp_path: Path, docker: str, images: tuple[str, str]) -> None:
    """A module with a real dependency, vendored: containers here cannot reach the module proxy."""
    src = tmp_path / "titler"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/titler\n\ngo 1.22\n")
    (src / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\n\t"golang.org/x/text/cases"\n\t"golang.org/x/text/language"\n)\n\n'
        'func main() { fmt.Println(cases.Title(language.English).String("hello slimgo")) }\n')
    subprocess.run(["go", "get", "golang.org/x/text@v0.21.0"], cwd=src, check=True, capture_output=True)
    subprocess.run(["go", "mod", "vendor"], cwd=src, check=True)
    gen = slimgo("dockerfile", src)
    assert gen.code == 0, gen.err
    text = (src / "Dockerfile").read_text()
    assert "-mod=vendor" in text and "go mod download" not in text
    tag = unique_tag("df-vendored")
    _docker_build(docker, src, tag, images)
    proc = subprocess.run([docker, "run", "--rm", tag], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "Hello Slimgo", proc.stderr
