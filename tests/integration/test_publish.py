"""Publishing against real parts: Debian's registry (plain, htpasswd, token auth), a Docker engine, skopeo,
qemu for arm64, and fault-injecting proxies."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import slimgo
from tests.support.parts import HELLO, require, unique_tag
from tests.support.registry import FaultProxy, TokenServer, docker_config, have_registry, htpasswd_yaml, registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    require(have_registry(), "docker-registry is not installed (apt-get install docker-registry)")
    with registry(tmp_path_factory.mktemp("registry")) as host:
        yield host


def _raw(host: str, ref: str, skopeo: str = "skopeo", creds: str | None = None) -> bytes:
    cmd = [skopeo, "inspect", "--raw", "--tls-verify=false", *(["--creds", creds] if creds else []),
           f"docker://{host}/{ref}"]
    proc = subprocess.run(cmd, capture_output=True, check=True)
    return proc.stdout


def _error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("slimgo: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_two_platform_push_pulls_and_runs_on_both(reg: str, docker: str, skopeo: str, go_bin: str) -> None:
    ref = f"{reg}/hello:multi"
    run = slimgo("build", HELLO, "--platform", "linux/amd64,linux/arm64", "--push", ref, "--json", "--no-reference",
                 "--sbom", "none", "--no-provenance")  # the image's blobs only (attachments: test_supplychain.py)
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["image_refs"] == [f"{reg}/hello@{doc['image_digest']}"]
    assert doc["push"]["uploaded_blobs"] == 5  # base layer, 2 binary layers, 2 configs
    raw = _raw(reg, "hello:multi", skopeo)
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == doc["image_digest"]
    index = json.loads(raw)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"]
    assert "outputs" in doc and "tarball" not in doc["outputs"]  # pushing alone writes no dist/ tarball
    for platform in ("linux/amd64", "linux/arm64"):
        pull = subprocess.run([docker, "pull", "--platform", platform, ref], capture_output=True, text=True)
        assert pull.returncode == 0, pull.stderr
        proc = subprocess.run([docker, "run", "--rm", "--platform", platform, ref, "-check"], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["uid"] == 65532
    again = slimgo("build", HELLO, "--platform", "linux/amd64,linux/arm64", "--push", ref, "--json", "--no-reference",
                   "--sbom", "none", "--no-provenance")
    assert again.code == 0, again.err
    push = again.json()["push"]  # the tag already names this index: one HEAD, no blob asked about or sent
    assert (push["uploaded_blobs"], push["skipped_blobs"], push["existing_manifests"]) == (0, 0, 1)


def test_slimgo_repo_is_the_default_repository(reg: str, go_bin: str) -> None:
    run = slimgo("build", HELLO, "--push", "--json", "--no-reference", env={"SLIMGO_REPO": f"{reg}/team"})
    assert run.code == 0, run.err
    assert run.json()["image_refs"][0].startswith(f"{reg}/team/hello@sha256:")


def test_basic_auth_with_docker_config_and_wrong_password(tmp_path: Path, go_bin: str) -> None:
    require(have_registry(), "docker-registry is not installed")
    secret = "s3cret-pa55word"
    with registry(tmp_path / "r", htpasswd_yaml(tmp_path / "r", "alice", secret)) as host:
        good = docker_config(tmp_path, host, "alice", secret)
        run = slimgo("build", HELLO, "--push", f"{host}/hello:auth", "--json", "--no-reference",
                     env={"DOCKER_CONFIG": str(good)})
        assert run.code == 0, run.err
        assert secret not in run.out + run.err
        bad = docker_config(tmp_path, host, "alice", "wrong-password")
        run = slimgo("build", HELLO, "--push", f"{host}/hello:auth2", "--no-reference",
                     env={"DOCKER_CONFIG": str(bad)})
        assert run.code == 2
        line = _error_line(run.err)
        assert host in line and "auths entry in config.json" in line
        assert "wrong-password" not in run.out + run.err
        # credentials from --username/--password-stdin
        proc = subprocess.run([sys.executable, "-m", "slimgo", "build", str(HELLO), "--push", f"{host}/hello:stdin",
                               "--username", "alice", "--password-stdin", "--no-reference"],
                              input=secret + "\n", capture_output=True, text=True,
                              env={**os.environ, "DOCKER_CONFIG": str(tmp_path / "none")})
        assert proc.returncode == 0, proc.stderr
        assert secret not in proc.stdout + proc.stderr


def test_bearer_token_flow(tmp_path: Path, go_bin: str, skopeo: str) -> None:
    require(have_registry(), "docker-registry is not installed")
    tokens = TokenServer("bob", "token-pass")
    with tokens.serve(), registry(tmp_path / "r", tokens.auth_yaml(tmp_path / "r")) as host:
        cfg = docker_config(tmp_path, host, "bob", "token-pass")
        run = slimgo("build", HELLO, "--push", f"{host}/app/hello:tok", "--json", "--no-reference",
                     env={"DOCKER_CONFIG": str(cfg)})
        assert run.code == 0, run.err
        assert tokens.issued == 1  # the push token also serves the pull requests (referrers, fallback tag)
        # the pushed image is readable with a token too: use it as a base (pull path)
        run2 = slimgo("build", HELLO, "--base", f"{host}/app/hello:tok", "--oci-layout", tmp_path / "l", "--json",
                      "--no-reference", env={"DOCKER_CONFIG": str(cfg)})
        assert run2.code == 0, run2.err
        bad = docker_config(tmp_path, host, "bob", "nope")
        run3 = slimgo("build", HELLO, "--push", f"{host}/app/hello:tok2", "--no-reference",
                      env={"DOCKER_CONFIG": str(bad)})
        assert run3.code == 2
        assert "token endpoint refused the credentials" in _error_line(run3.err)


@pytest.mark.parametrize("mode", ["drop-upload", "503"])
def test_push_survives_faults(reg: str, mode: str, skopeo: str, go_bin: str) -> None:
    with FaultProxy(reg, mode).run() as proxy:
        ref = f"{proxy.address}/faults/{mode}:1"
        run = slimgo("build", HELLO, "--push", ref, "--json", "--no-reference", "--no-cache",
                     env={"SOURCE_DATE_EPOCH": str(1000 + len(mode))})
        assert run.code == 0, run.err
        assert proxy.faults >= 1
        doc = run.json()
        assert doc["push"]["retries"] >= 1
    raw = _raw(reg, f"faults/{mode}:1", skopeo)  # read straight from the registry, not through the proxy
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == doc["image_digest"]
    manifest = json.loads(raw)
    for layer in manifest["layers"]:
        blob = subprocess.run(["curl", "-sf", f"http://{reg}/v2/faults/{mode}/blobs/{layer['digest']}"],
                              capture_output=True, check=True).stdout
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == layer["digest"]


def test_killed_push_resumes_without_reuploading(reg: str, go_bin: str) -> None:
    args = ["build", str(HELLO), "--platform", "linux/amd64,linux/arm64", "--json", "--no-reference",
            "--sbom", "none", "--no-provenance"]  # counts the image's 5 blobs (attachments: test_supplychain.py)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "4242"}
    with FaultProxy(reg, "stall", count=1).run() as proxy:
        proc = subprocess.Popen([sys.executable, "-m", "slimgo", *args, "--push", f"{proxy.address}/resume/hello:1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 120
        while not proxy.stalled.is_set() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proxy.stalled.is_set(), "no blob upload completed before the deadline"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done_before = proxy.completed_uploads
    run = slimgo(*args, "--push", f"{reg}/resume/hello:1", env={"SOURCE_DATE_EPOCH": "4242"})
    assert run.code == 0, run.err
    push = run.json()["push"]
    assert push["skipped_blobs"] >= done_before >= 1
    assert push["uploaded_blobs"] + push["skipped_blobs"] + push["mounted_blobs"] == 5
    assert push["uploaded_blobs"] < 5


def _config(layout: Path) -> dict:
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((layout / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text())
    return json.loads((layout / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).read_text())


def _first_layers(layout: Path) -> list[str]:
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((layout / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_text())
    return [layer["digest"] for layer in manifest["layers"]]


def test_base_from_registry_layout_archive_and_daemon(reg: str, tmp_path: Path, docker: str, go_bin: str) -> None:
    pub = slimgo("base", "push", f"{reg}/bases/static:1", "--platform", "linux/amd64", "--oci-layout",
                 tmp_path / "base-layout", "--tarball", tmp_path / "base.tar", "--json")
    assert pub.code == 0, pub.err
    base_layers = _first_layers(tmp_path / "base-layout")
    assert len(base_layers) == 1
    base_diff_id = _config(tmp_path / "base-layout")["rootfs"]["diff_ids"][0]
    subprocess.run([docker, "load", "-i", str(tmp_path / "base.tar")], check=True, capture_output=True)
    saved = tmp_path / "saved.tar"
    subprocess.run([docker, "save", "-o", str(saved), f"{reg}/bases/static:1"], check=True)
    sources = {
        "registry": f"{reg}/bases/static:1",
        "oci": f"oci:{tmp_path / 'base-layout'}",
        "archive": f"docker-archive:{tmp_path / 'base.tar'}",
        "daemon": f"docker-daemon:{reg}/bases/static:1",
        "docker-save": f"docker-archive:{saved}",
    }
    for name, spec in sources.items():
        tag = unique_tag(f"onbase-{name}")
        out = tmp_path / name
        run = slimgo("build", HELLO, "--base", spec, "--tag", tag, "--oci-layout", out, "--tarball",
                     tmp_path / f"{name}.tar", "--json", "--no-reference")
        assert run.code == 0, (name, run.err)
        layers = _first_layers(out)
        assert len(layers) == 2
        if name in ("daemon", "docker-save"):
            # the engine exports layers uncompressed: they are reused as it gives them, not recompressed
            assert layers[0] == base_diff_id, name
        else:
            assert layers[0] == base_layers[0], name  # byte-for-byte reuse of the compressed blob
        cfg = run.json()
        assert cfg["base"] == spec
        subprocess.run([docker, "load", "-i", str(tmp_path / f"{name}.tar")], check=True, capture_output=True)
        proc = subprocess.run([docker, "run", "--rm", tag, "-check"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (name, proc.stderr)
        check = json.loads(proc.stdout)
        assert check["uid"] == 65532 and check["ca_roots"] > 100  # user and env inherited from the base


def test_load_into_the_engine(docker: str, go_bin: str) -> None:
    tag = unique_tag("loaded")
    run = slimgo("build", HELLO, "--load", "--tag", tag, "--json", "--no-reference")
    assert run.code == 0, run.err
    assert tag in run.json()["outputs"]["loaded"]
    proc = subprocess.run([docker, "run", "--rm", tag, "-check"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and json.loads(proc.stdout)["shell_absent"] is True


def test_publishing_errors(reg: str, tmp_path: Path, go_bin: str) -> None:
    from tests.support.registry import free_port

    dead = f"127.0.0.1:{free_port()}"
    run = slimgo("build", HELLO, "--push", f"{dead}/x:1", "--no-reference", "--tarball", tmp_path / "a.tar")
    assert run.code == 3 and "connection failed" in _error_line(run.err)  # a remote failure, not bad input
    run = slimgo("build", HELLO, "--base", f"{reg}/does/not-exist:1", "--tarball", tmp_path / "b.tar")
    assert run.code == 2 and "manifest unknown" in _error_line(run.err)
    assert not (tmp_path / "b.tar").exists()  # the refused base stopped the compile running beside it
    pub = slimgo("base", "push", f"{reg}/bases/amd64only:1", "--platform", "linux/amd64")
    assert pub.code == 0, pub.err
    run = slimgo("build", HELLO, "--base", f"{reg}/bases/amd64only:1", "--platform", "linux/arm64",
                 "--tarball", tmp_path / "c.tar")
    assert run.code == 2 and "not in base" in _error_line(run.err)
    # a corrupted blob in a layout base: digest mismatch, nothing written
    layout = tmp_path / "corrupt"
    assert slimgo("base", "push", "--oci-layout", layout, "--platform", "linux/amd64").code == 0
    biggest = max((layout / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(biggest.read_bytes())
    data[100] ^= 0xFF
    biggest.write_bytes(bytes(data))
    run = slimgo("build", HELLO, "--base", f"oci:{layout}", "--tarball", tmp_path / "d.tar", "--no-cache",
                 env={"SLIMGO_CACHE": str(tmp_path / "fresh-cache")})
    assert run.code == 2 and "digest mismatch" in _error_line(run.err)
    assert not any(tmp_path.glob("*.tar"))


def test_chunked_upload_mount_and_platform_all(reg: str, tmp_path: Path, skopeo: str, go_bin: str) -> None:
    """A layer over the 16 MiB chunk threshold goes up in chunks; a base from the same registry is mounted,
    not re-uploaded; --platform all takes every platform the base offers."""
    pub = slimgo("base", "push", f"{reg}/bases/multi:1", "--platform", "linux/amd64,linux/arm64")
    assert pub.code == 0, pub.err
    data = tmp_path / "data"
    data.mkdir()
    (data / "blob.bin").write_bytes(os.urandom(20 << 20))  # incompressible: the layer stays > 16 MiB
    run = slimgo("build", HELLO, "--base", f"{reg}/bases/multi:1", "--platform", "all", "--data", data,
                 "--push", f"{reg}/apps/big:1", "--json", "--no-reference")
    assert run.code == 0, run.err
    doc = run.json()
    assert sorted(p["platform"] for p in doc["platforms"]) == ["linux/amd64", "linux/arm64"]
    assert doc["push"]["mounted_blobs"] == 1  # the shared base layer, mounted from bases/multi
    data_layer = next(layer for layer in doc["layers"] if layer["comment"] == "data")
    assert data_layer["compressed_bytes"] > 16 << 20
    raw = _raw(reg, "apps/big:1", skopeo)
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == doc["image_digest"]
    blob = subprocess.run(["curl", "-sf", f"http://{reg}/v2/apps/big/blobs/{data_layer['digest']}"],
                          capture_output=True, check=True).stdout
    assert "sha256:" + hashlib.sha256(blob).hexdigest() == data_layer["digest"]
