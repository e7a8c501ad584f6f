"""Every variant of the generated Dockerfile, built by the real engine (Docker 20.10's BuildKit, offline)
on local stand-ins for the images it names, then run: a local replace and a go.work workspace outside
the package directory, a cgo package, scratch with the files the program needs, UPX from a checksummed
release, Delve for the target, and --pin against a local registry."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.cli import slimgo
from tests.support.container import run_container
from tests.support.images import (
    builder_with_proxy,
    delve_proxy,
    docker_build,
    ensure_builder_image,
    ensure_cgo_builder_image,
    ensure_glibc_runtime_image,
    ensure_static_image,
    find_upx,
    serve_on_bridge,
    upx_release,
)
from tests.support.parts import HELLO, REPO, require, require_upx, unique_tag
from tests.support.registry import registry

pytestmark = pytest.mark.integration
BUILDER = "slimgo-test/gobuilder:2"
CGO_BUILDER = "slimgo-test/gobuilder-cgo:2"
RUNTIME = "slimgo-test/static:1"
GLIBC_RUNTIME = "slimgo-test/glibc:1"
UPX_SHARED = REPO.parent / "shared" / "tools" / "upx" / "upx"


@pytest.fixture(scope="module")
def images(docker: str, go_bin: str) -> dict[str, str]:
    require(shutil.which("busybox") is not None, "busybox-static is not installed (the builder image's shell)")
    return {"BUILDER_IMAGE": ensure_builder_image(BUILDER), "RUNTIME_IMAGE": ensure_static_image(RUNTIME)}


@pytest.fixture
def tags(docker: str) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    if made:
        subprocess.run([docker, "rmi", "-f", *made], capture_output=True)


def _generate(src: Path, *args: str) -> str:
    gen = slimgo("dockerfile", src, *args)
    assert gen.code == 0, gen.err
    return gen.out


def _lint_clean(dockerfile: Path, context: Path | None = None) -> None:
    """No error or warning; a context other than the Dockerfile's directory is named with --context."""
    run = slimgo("lint", dockerfile, "--json", *(["--context", str(context)] if context is not None else []))
    findings = [f for f in run.json()["findings"] if f["severity"] in ("error", "warning")]
    assert findings == [], run.out


def _build(context: Path, dockerfile: Path, tags: list[str], args: dict[str, str], name: str) -> str:
    tag = unique_tag(f"gen-{name}")
    proc = docker_build(context, tag, dockerfile, args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tags.append(tag)
    return tag


def _run(docker: str, tag: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([docker, "run", "--rm", tag, *args], capture_output=True, text=True, timeout=60)


def _analyze(docker: str, tag: str, tmp: Path) -> dict:
    saved = tmp / "image.tar"
    subprocess.run([docker, "save", "-o", str(saved), tag], check=True)
    run = slimgo("analyze", f"docker-archive:{saved}", "--json")
    assert run.code == 0, run.err
    saved.unlink()
    return run.json()


def _module(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


MAIN_USING_LIB = 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/lib"\n)\n\nfunc main() { fmt.Println(lib.Greeting) }\n'
LIB = {"go.mod": "module example.com/lib\n\ngo 1.22\n", "lib.go": 'package lib\n\nconst Greeting = "hello from lib"\n'}


def test_local_replace_outside_the_module(tmp_path: Path, docker: str, images: dict[str, str],
                                          tags: list[str]) -> None:
    repo = tmp_path / "repo"
    _module(repo / "lib", LIB)
    app = _module(repo / "services" / "app", {
        "go.mod": "module example.com/app\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n\n"
                  "replace example.com/lib => ../../lib\n",
        "main.go": MAIN_USING_LIB})
    out = _generate(app)
    dockerfile = app / "Dockerfile"
    text = dockerfile.read_text()
    assert "COPY lib/go.mod /src/lib/" in text and "WORKDIR /src/services/app" in text
    assert (repo / ".dockerignore").exists() and "!lib" in (repo / ".dockerignore").read_text()
    _lint_clean(dockerfile, repo)
    # The printed command builds from the replace root; the header's, from that root, names the file.
    assert "-f services/app/Dockerfile" in text
    assert f"-f {os.path.relpath(dockerfile)}" in out and os.path.relpath(repo) in out
    tag = _build(repo, dockerfile, tags, images, "replace")
    proc = _run(docker, tag)
    assert proc.returncode == 0 and proc.stdout.strip() == "hello from lib", proc.stderr


def test_go_work_workspace(tmp_path: Path, docker: str, images: dict[str, str], tags: list[str]) -> None:
    ws = tmp_path / "ws"
    _module(ws / "lib", LIB)
    app = _module(ws / "app", {"go.mod": "module example.com/app\n\ngo 1.22\n",
                                                   "main.go": MAIN_USING_LIB})
    (ws / "go.work").write_text("go 1.22\n\nuse (\n\t./app\n\t./lib\n)\n")
    _generate(app / ".")
    dockerfile = app / "Dockerfile"
    text = dockerfile.read_text()
    assert "COPY go.work /src/" in text and "COPY lib/go.mod /src/lib/" in text
    _lint_clean(dockerfile, ws)
    tag = _build(ws, dockerfile, tags, images, "work")
    proc = _run(docker, tag)
    assert proc.returncode == 0 and proc.stdout.strip() == "hello from lib", proc.stderr


def test_replaces_that_cannot_make_a_context_are_refused(tmp_path: Path) -> None:
    gomod = "module example.com/app\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => {}\n"
    app = _module(tmp_path / "app", {"go.mod": gomod.format("/proc/self"), "main.go": MAIN_USING_LIB})
    run = slimgo("dockerfile", app)
    assert run.code == 2 and "has no go.mod" in run.err and not (app / "Dockerfile").exists()
    # A replacement on another branch of the tree: the only common directory is /.
    shm = Path("/dev/shm")
    require(shm.is_dir() and not str(tmp_path).startswith("/dev/shm"), "/dev/shm is needed as a second tree")
    lib = Path(tempfile.mkdtemp(prefix="slimgo-gen-", dir=shm))
    try:
        _module(lib, LIB)
        (app / "go.mod").write_text(gomod.format(lib))
        run = slimgo("dockerfile", app)
        assert run.code == 2 and "share no directory but /" in run.err and "go mod vendor" in run.err, run.err
        assert not (app / "Dockerfile").exists()
    finally:
        shutil.rmtree(lib)


CGO_MAIN = """package main

/*
static int twice(int x) { return 2 * x; }
*/
import "C"

import "fmt"

func main() { fmt.Println("cgo says", int(C.twice(21))) }
"""


def test_cgo_package_gets_a_cgo_builder_and_a_glibc_runtime(tmp_path: Path, docker: str,
                                                           images: dict[str, str], tags: list[str]) -> None:
    require(shutil.which("gcc") is not None, "gcc is not installed (the host probe and the cgo builder's compiler)")
    src = _module(tmp_path / "cgoapp", {"go.mod": "module example.com/cgoapp\n\ngo 1.22\n",
                                                              "main.go": CGO_MAIN})
    gen = slimgo("dockerfile", src, "--json")
    assert gen.code == 0, gen.err
    doc = gen.json()
    assert doc["cgo"] is True and doc["runtime_image"] == "gcr.io/distroless/base-debian12:nonroot"
    assert doc["dockerfile"] == str(src / "Dockerfile") and doc["dockerignore"] == str(src / ".dockerignore")
    assert any("example.com/cgoapp cannot build with CGO_ENABLED=0" in n for n in doc["notes"])
    assert "example.com/cgoapp cannot build with CGO_ENABLED=0" in gen.err
    text = (src / "Dockerfile").read_text()
    assert "ARG RUNTIME_IMAGE=gcr.io/distroless/base-debian12:nonroot" in text and "CGO_ENABLED=1" in text
    _lint_clean(src / "Dockerfile")  # SG401 knows distroless/base has glibc
    args = {"BUILDER_IMAGE": ensure_cgo_builder_image(CGO_BUILDER, images["BUILDER_IMAGE"]),
            "RUNTIME_IMAGE": ensure_glibc_runtime_image(GLIBC_RUNTIME, images["RUNTIME_IMAGE"])}
    tag = _build(src, src / "Dockerfile", tags, args, "cgo")
    proc = _run(docker, tag)
    assert proc.returncode == 0 and proc.stdout.strip() == "cgo says 42", proc.stderr
    binary = _analyze(docker, tag, tmp_path)["binaries"][0]
    assert binary["link"] == "dynamic" and binary["build_settings"]["CGO_ENABLED"] == "1"


def test_cgo_package_with_a_pure_go_fallback_keeps_the_static_build(tmp_path: Path, go_bin: str) -> None:
    src = _module(tmp_path / "fallback", {
        "go.mod": "module example.com/fallback\n\ngo 1.22\n",
        "c.go": "//go:build cgo\n\npackage main\n\n// static int two(void) { return 2; }\nimport \"C\"\n\n"
                "func v() int { return int(C.two()) }\n",
        "pure.go": "//go:build !cgo\n\npackage main\n\nfunc v() int { return 2 }\n",
        "main.go": "package main\n\nfunc main() { println(v()) }\n"})
    gen = slimgo("dockerfile", src, "-o", "-")
    assert gen.code == 0 and "CGO_ENABLED=0 GOOS=$TARGETOS" in gen.out and "cgo" not in gen.err, gen.err


def test_scratch_gets_the_ca_bundle_and_zoneinfo_the_program_uses(tmp_path: Path, docker: str,
                                                                   images: dict[str, str], tags: list[str]) -> None:
    src = tmp_path / "hello"
    shutil.copytree(HELLO, src)
    _generate(src, "--base", "scratch")
    text = (src / "Dockerfile").read_text()
    assert "ca-certificates.crt" in text and "ZONEINFO" in text
    _lint_clean(src / "Dockerfile")
    tag = _build(src, src / "Dockerfile", tags, {"BUILDER_IMAGE": images["BUILDER_IMAGE"]}, "scratch")
    proc = _run(docker, tag, "-check")
    assert proc.returncode == 0, proc.stderr
    check = json.loads(proc.stdout)
    assert check["ca_roots"] > 0 and check["asia_shanghai"] == "CST +0800" and check["uid"] == 65532


def test_arm_variant_reaches_goarm(tmp_path: Path, docker: str, images: dict[str, str], tags: list[str]) -> None:
    """--platform linux/arm/v6 must give a GOARM=6 binary (Go's cross default is 7, which v6 cannot run)."""
    # The smallest program: a cold build cache compiles only the runtime for arm.
    src = _module(tmp_path / "tiny", {"go.mod": "module example.com/tiny\n\ngo 1.22\n",
                                                         "main.go": "package main\n\nfunc main() {}\n"})
    _generate(src)
    tag = unique_tag("gen-armv6")
    proc = docker_build(src, tag, src / "Dockerfile", {"BUILDER_IMAGE": images["BUILDER_IMAGE"],
                                                       "RUNTIME_IMAGE": "scratch"}, platform="linux/arm/v6")
    assert proc.returncode == 0, proc.stderr[-3000:]
    tags.append(tag)
    settings = _analyze(docker, tag, tmp_path)["binaries"][0]["build_settings"]
    assert settings["GOARCH"] == "arm" and settings["GOARM"] == "6"


def test_upx_recipe_builds_packs_and_runs(tmp_path: Path, docker: str, images: dict[str, str],
                                          tags: list[str]) -> None:
    found = find_upx(UPX_SHARED)
    upx = Path(require_upx(str(found) if found is not None else None))
    version = subprocess.run([str(upx), "--version"], capture_output=True, text=True).stdout.split()[1]
    # A small program: `upx --best --lzma` takes seconds per MiB on this machine.
    src = _module(tmp_path / "small", {"go.mod": "module example.com/small\n\ngo 1.22\n",
                                       "main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("packed") }\n'})
    _generate(src, "--upx")
    _lint_clean(src / "Dockerfile")
    release = tmp_path / "release"
    release.mkdir()
    digest = upx_release(upx, version, release)
    with serve_on_bridge(release) as url:
        # The upstream URL and checksums are overridden only because this machine has no network:
        # the recipe (fetch, verify, unpack, pack, test) is the one users get.
        args = {**images, "UPX_IMAGE": images["BUILDER_IMAGE"], "UPX_VERSION": version, "UPX_URL": url,
                "UPX_SHA256_AMD64": digest}
        tag = _build(src, src / "Dockerfile", tags, args, "upx")
        bad = docker_build(src, unique_tag("gen-upx-bad"), src / "Dockerfile", {**args, "UPX_SHA256_AMD64": "0" * 64})
        assert bad.returncode != 0 and "FAILED" in bad.stderr  # sha256sum -c refuses a tampered download
        guarded = _build(src, src / "Dockerfile", tags, {**args, "UPX_TARGETS": "arm64"}, "upx-guard")
    proc = _run(docker, tag)
    assert proc.returncode == 0 and proc.stdout.strip() == "packed", proc.stderr
    packed, plain = _copy_out(docker, tag, "/app/small", tmp_path / "packed"), \
        _copy_out(docker, guarded, "/app/small", tmp_path / "plain")
    assert subprocess.run([str(upx), "-t", str(packed)], capture_output=True).returncode == 0
    assert packed.stat().st_size < plain.stat().st_size * 0.6
    # amd64 is not in UPX_TARGETS for the guarded build: shipped as the linker wrote it.
    assert _analyze_file(plain)["upx_packed"] is False and _analyze_file(plain)["stripped"]["symbols"] is True


def _copy_out(docker: str, tag: str, path: str, dest: Path) -> Path:
    cid = subprocess.run([docker, "create", tag], capture_output=True, text=True, check=True).stdout.strip()
    try:
        subprocess.run([docker, "cp", f"{cid}:{path}", str(dest)], check=True, capture_output=True)
    finally:
        subprocess.run([docker, "rm", cid], capture_output=True)
    return dest


def _analyze_file(path: Path) -> dict:
    run = slimgo("analyze", path, "--json")
    assert run.code == 0, run.err
    return run.json()


def test_debug_image_breakpoint_session_over_dap(tmp_path: Path, docker: str, go_bin: str,
                                                 images: dict[str, str]) -> None:
    """The --debug Dockerfile's image, driven by an editor's DAP conversation (tests/support/dap.py, the same
    session as slimgo build --debug's test): a breakpoint in a handler binds through the -trimpath mapping,
    stops, shows a local; then the --debug-continue variant serves before any client attaches."""
    from slimgo.debug.delve import VERSION
    from tests.integration.test_debug import APP, APP_READY, DLV_READY, _get, _session

    src = tmp_path / "debugapp"
    shutil.copytree(APP, src)
    _generate(src, "--debug")
    _lint_clean(src / "Dockerfile")
    with serve_on_bridge(delve_proxy(go_bin, VERSION)) as url:
        builder = builder_with_proxy(images["BUILDER_IMAGE"], url, unique_tag("gen-builder-proxy"))
        tag = _build(src, src / "Dockerfile", [builder], {**images, "BUILDER_IMAGE": builder}, "debug")
        _generate(src, "--debug", "--debug-continue", "--force")
        cont = _build(src, src / "Dockerfile", [], {**images, "BUILDER_IMAGE": builder}, "debug-cont")
    by_name = {b["image_path"].rsplit("/", 1)[-1]: b for b in _analyze(docker, tag, tmp_path)["binaries"]}
    assert by_name["debugapp"]["stripped"] == {"symbols": False, "dwarf": False}
    assert by_name["dlv"]["link"] == "static" and by_name["dlv"]["build_settings"]["GOARCH"] == "amd64"
    assert by_name["dlv"]["main_module"]["version"] == VERSION
    user = subprocess.run([docker, "image", "inspect", "-f", "{{.Config.User}}", tag], capture_output=True, text=True)
    assert user.stdout.strip() == "65532:65532"
    substitute = [{"from": str(src), "to": "example.com/debugapp"}]  # what a -trimpath build needs
    # No capabilities at all: `dlv exec` traces its own child.
    with run_container(tag, ports=(2345, 8080), prefix="slimgo-gen-debug", options=("--cap-drop=ALL",)) as c:
        c.wait_log(DLV_READY)
        _session(c.ports[2345], c.ports[8080], src / "main.go", substitute, lambda: c.wait_log(APP_READY))
    with run_container(cont, ports=(2345, 8080), prefix="slimgo-gen-debug") as c:
        c.wait_log(APP_READY)  # no client has connected
        early: dict[str, str] = {}
        _get(c.ports[8080], "early", early)
        assert early["body"] == "hello, early\n"


def test_pin_writes_digests_the_registry_serves(tmp_path: Path, docker: str, images: dict[str, str]) -> None:
    with registry(tmp_path / "reg") as host:
        ref = f"{host}/static:1"
        pushed = slimgo("base", "push", ref)
        assert pushed.code == 0, pushed.err
        src = tmp_path / "hello"
        shutil.copytree(HELLO, src)
        gen = slimgo("dockerfile", src, "--pin", "--base", ref, "--builder", f"{host}/static:1", "-o", "-")
        assert gen.code == 0, gen.err
        resp = requests.get(f"http://{host}/v2/static/manifests/1",
                            headers={"Accept": "application/vnd.oci.image.index.v1+json, "
                                               "application/vnd.oci.image.manifest.v1+json"}, timeout=10)
        digest = "sha256:" + hashlib.sha256(resp.content).hexdigest()
        assert f"ARG RUNTIME_IMAGE={ref}@{digest}" in gen.out
        assert f"ARG BUILDER_IMAGE={ref}@{digest}" in gen.out and "ARG GO_VERSION" not in gen.out
        # The engine, pulling the tag, resolves the same digest.
        pull = subprocess.run([docker, "pull", ref], capture_output=True, text=True)
        assert pull.returncode == 0, pull.stderr
    try:
        # Registry gone: the digest comes from the engine's record of that pull, and the user is told.
        offline = slimgo("dockerfile", src, "--pin", "--base", ref, "--builder", ref, "-o", "-")
        assert offline.code == 0 and f"ARG RUNTIME_IMAGE={ref}@{digest}" in offline.out, offline.err
        assert "used the digest of the local engine's pull" in offline.err
    finally:
        subprocess.run([docker, "rmi", ref], capture_output=True)
    missing = slimgo("dockerfile", src, "--pin", "--base", ref, "--builder", ref, "-o", "-")
    assert missing.code == 2 and "has not pulled it either" in missing.err and "Traceback" not in missing.err
