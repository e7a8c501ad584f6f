"""slimgo build against real parts: the Go toolchain, a Docker engine, skopeo, the OCI schemas."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.cli import slimgo
from tests.support.parts import HELLO, HTTPBIN, WHOAMI, docker_run, unique_tag
from tests.support.schemas import validate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hello_build(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> dict:
    out = tmp_path_factory.mktemp("hello")
    tag = unique_tag("hello")
    run = slimgo("build", HELLO, "--tag", tag, "--oci-layout", out / "layout", "--tarball", out / "hello.tar",
                 "--image-refs", out / "refs.txt", "--json", "--reference")
    assert run.code == 0, run.err
    return {"dir": out, "tag": tag, "json": run.json(), "stderr": run.err}


def test_json_output_is_one_document_with_the_contract_fields(hello_build: dict) -> None:
    doc = hello_build["json"]
    for key in ("schema_version", "image_digest", "compressed_bytes", "uncompressed_bytes", "binary_bytes",
                "layers", "platforms"):
        assert key in doc, key
    assert doc["image_digest"].startswith("sha256:")
    assert [p["platform"] for p in doc["platforms"]] == ["linux/amd64"]
    for layer in doc["layers"]:
        assert layer["compressed_bytes"] < layer["uncompressed_bytes"]
    # measured, not assumed: the plain build is larger than the stripped one
    assert doc["reference_binary_bytes"] > doc["binary_bytes"]
    assert "compiling" in hello_build["stderr"]  # progress goes to stderr, never into the JSON


def test_layout_validates_against_oci_schemas(hello_build: dict, oci_schemas: Path) -> None:
    layout = hello_build["dir"] / "layout"
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    validate(oci_schemas, "image-layout-schema.json", json.loads((layout / "oci-layout").read_text()))
    index = json.loads((layout / "index.json").read_text())
    validate(oci_schemas, "image-index-schema.json", index)
    blob = lambda d: layout / "blobs" / "sha256" / d.split(":")[1]  # noqa: E731
    manifest = json.loads(blob(index["manifests"][0]["digest"]).read_bytes())
    validate(oci_schemas, "image-manifest-schema.json", manifest)
    config = json.loads(blob(manifest["config"]["digest"]).read_bytes())
    validate(oci_schemas, "config-schema.json", config)
    # every blob's name is its digest
    import hashlib
    for f in (layout / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(f.read_bytes()).hexdigest() == f.name
    assert config["config"]["User"] == "65532:65532"
    assert config["config"]["WorkingDir"] == "/home/nonroot"
    assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in config["config"]["Env"]
    labels = config["config"]["Labels"]
    assert labels["org.opencontainers.image.base.name"] == "slimgo/static"
    assert labels["dev.slimgo.base.ca-bundle"].startswith("certifi ")
    assert labels["dev.slimgo.base.tzdata"].startswith("IANA ")
    assert config["created"] == "1970-01-01T00:00:00Z"


def test_skopeo_reads_the_layout(hello_build: dict, skopeo: str) -> None:
    layout = hello_build["dir"] / "layout"
    tag = hello_build["tag"].split(":")[1]
    proc = subprocess.run([skopeo, "inspect", f"oci:{layout}:{tag}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
    assert len(info["Layers"]) == 2
    raw = subprocess.run([skopeo, "inspect", "--raw", f"oci:{layout}:{tag}"], capture_output=True, text=True)
    assert "sha256:" + __import__("hashlib").sha256(raw.stdout.encode()).hexdigest() == hello_build["json"]["image_digest"]


def test_image_refs_file(hello_build: dict) -> None:
    refs = (hello_build["dir"] / "refs.txt").read_text().split()
    name = hello_build["tag"].split(":")[0]
    assert refs == [f"{name}@{hello_build['json']['image_digest']}"]


def test_hello_runs_in_docker_with_what_the_base_promises(hello_build: dict, docker: str) -> None:
    load = subprocess.run([docker, "load", "-i", str(hello_build["dir"] / "hello.tar")], capture_output=True,
                          text=True)
    assert load.returncode == 0, load.stderr
    assert hello_build["tag"] in load.stdout
    run = docker_run(docker, hello_build["tag"], "-check")
    assert run.returncode == 0, run.stderr
    check = json.loads(run.stdout)
    assert check["ca_roots"] > 100  # the Mozilla bundle, usable by crypto/x509
    assert check["asia_shanghai"] == "CST +0800"
    assert check["uid"] == 65532 and check["user"] == "nonroot"
    assert check["tmp_writable"] is True
    assert check["shell_absent"] is True
    # no shell really means no shell: Docker cannot exec one
    sh = subprocess.run([docker, "run", "--rm", "--entrypoint", "/bin/sh", hello_build["tag"], "-c", "true"],
                        capture_output=True, text=True)
    assert sh.returncode != 0


def test_panic_in_the_image_keeps_file_and_line(hello_build: dict, docker: str) -> None:
    subprocess.run([docker, "load", "-i", str(hello_build["dir"] / "hello.tar")], capture_output=True, check=True)
    run = docker_run(docker, hello_build["tag"], "-panic")
    assert run.returncode == 2  # Go's exit status for an unrecovered panic
    assert "assignment to entry in nil map" in run.stderr
    # -s -w and -trimpath keep .gopclntab: the trace names the module-relative file and line
    assert "example.com/hello/main.go:" in run.stderr


def test_compressed_image_is_close_to_gzip9_of_the_binary(hello_build: dict, tmp_path: Path, go_bin: str) -> None:
    binary = tmp_path / "hello"
    subprocess.run([go_bin, "build", "-trimpath", "-ldflags=-s -w", "-o", str(binary), "."], cwd=HELLO,
                   env={**__import__("os").environ, "CGO_ENABLED": "0"}, check=True)
    gz9 = len(gzip.compress(binary.read_bytes(), compresslevel=9, mtime=0))
    assert binary.stat().st_size == hello_build["json"]["binary_bytes"]
    overhead = hello_build["json"]["compressed_bytes"] - gz9
    assert overhead <= 700 * 1024, f"image exceeds gzip -9 of the binary by {overhead} bytes"


def _copy_module(dest: Path) -> Path:
    shutil.copytree(HELLO, dest, ignore=shutil.ignore_patterns("dist"))
    return dest


def test_reproducible_across_two_copies_at_different_paths(tmp_path: Path, go_bin: str) -> None:
    digests = []
    for name in ("one/deeper", "two"):
        src = _copy_module(tmp_path / name / "hello")
        run = slimgo("build", src, "--json", "--no-reference", "--no-cache", "--tarball", tmp_path / f"{name.split('/')[0]}.tar")
        assert run.code == 0, run.err
        doc = run.json()
        digests.append((doc["image_digest"], [layer["digest"] for layer in doc["layers"]]))
    assert digests[0] == digests[1]
    # the tarballs themselves are byte-identical too
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()


def test_source_date_epoch_sets_created(tmp_path: Path, go_bin: str) -> None:
    run = slimgo("build", HELLO, "--json", "--no-reference", "--oci-layout", tmp_path / "l",
                 env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert run.code == 0, run.err
    layout = tmp_path / "l"
    index = json.loads((layout / "index.json").read_text())
    blob = lambda d: layout / "blobs" / "sha256" / d.split(":")[1]  # noqa: E731
    manifest = json.loads(blob(index["manifests"][0]["digest"]).read_bytes())
    config = json.loads(blob(manifest["config"]["digest"]).read_bytes())
    assert config["created"] == "2023-11-14T22:13:20Z"
    with tarfile.open(blob(manifest["layers"][-1]["digest"])) as tar:
        assert {m.mtime for m in tar.getmembers()} == {1700000000}
    with tarfile.open(blob(manifest["layers"][0]["digest"])) as tar:  # the shared base keeps epoch 0
        assert {m.mtime for m in tar.getmembers()} == {0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_and_get(docker: str, image: str, container_port: int, path: str = "/") -> tuple[int, str]:
    port = _free_port()
    cid = subprocess.run([docker, "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:{container_port}", image],
                         capture_output=True, text=True, check=True).stdout.strip()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
                    return resp.status, resp.read().decode()
            except OSError:
                if time.monotonic() > deadline:
                    logs = subprocess.run([docker, "logs", cid], capture_output=True, text=True)
                    raise AssertionError(f"no HTTP answer; logs: {logs.stdout}{logs.stderr}") from None
                time.sleep(0.3)
    finally:
        subprocess.run([docker, "rm", "-f", cid], capture_output=True)


@pytest.mark.network
def test_remote_module_httpbin_answers_http(tmp_path: Path, docker: str, go_bin: str) -> None:
    tag = unique_tag("httpbin")
    run = slimgo("build", HTTPBIN, "--tag", tag, "--tarball", tmp_path / "httpbin.tar", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["package"] == "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin"
    subprocess.run([docker, "load", "-i", str(tmp_path / "httpbin.tar")], check=True, capture_output=True)
    status, body = _serve_and_get(docker, tag, 8080, "/get")
    assert status == 200 and '"url"' in body
    config = json.loads(subprocess.run([docker, "image", "inspect", tag], capture_output=True, text=True,
                                       check=True).stdout)[0]["Config"]
    assert config["Labels"]["org.opencontainers.image.version"] == "v2.26.0"
    assert config["Labels"]["org.opencontainers.image.source"] == "https://github.com/mccutchen/go-httpbin"


@pytest.mark.network
def test_remote_module_whoami_answers_http(tmp_path: Path, docker: str, go_bin: str, proxy_has) -> None:
    ok, why = proxy_has(WHOAMI)
    if not ok:
        pytest.skip(f"the Go module proxy does not serve {WHOAMI}: {why}")
    tag = unique_tag("whoami")
    run = slimgo("build", WHOAMI, "--tag", tag, "--tarball", tmp_path / "whoami.tar")
    assert run.code == 0, run.err
    subprocess.run([docker, "load", "-i", str(tmp_path / "whoami.tar")], check=True, capture_output=True)
    status, body = _serve_and_get(docker, tag, 80)
    assert status == 200 and "Hostname" in body
