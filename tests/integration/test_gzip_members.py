"""`--gzip-library libdeflate` writes the binary's layer as gzip members joined end to end (RFC 1952 2.2),
one per MiB. A reader that stopped after the first member would see a cut binary and a wrong diff_id, so
each real client that unpacks images is checked on a built image: Docker Engine loads and runs it, skopeo
decompresses every layer to its diff_id, and crane validates digests and diff_ids (and, as a control,
refuses the same archive when its config names only the first member's content)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import slimgo
from tests.support.parts import HELLO, docker_run, unique_tag

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("members")
    tag = unique_tag("gzip-members")
    run = slimgo("build", HELLO, "--gzip-library", "libdeflate", "-t", tag, "--tarball", out / "img.tar", "--json",
                 env={"SLIMGO_CACHE": str(out / "cache")})
    assert run.code == 0, run.err
    with tarfile.open(out / "img.tar") as tar:
        manifest = json.loads(_member(tar, "manifest.json"))[0]
        config = json.loads(_member(tar, manifest["Config"]))
        layer = _member(tar, manifest["Layers"][-1])
    return {"dir": out, "tag": tag, "archive": out / "img.tar", "manifest": manifest, "config": config,
            "layer": layer}


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    fh = tar.extractfile(name)
    assert fh is not None, name
    return fh.read()


def _gzip_members(blob: bytes) -> list[bytes]:
    parts = []
    while blob:
        d = zlib.decompressobj(31)
        parts.append(d.decompress(blob))
        assert d.eof
        blob = d.unused_data
    return parts


def test_layer_is_several_members_and_labelled(built: dict[str, Any]) -> None:
    parts = _gzip_members(built["layer"])
    assert len(parts) > 1  # the hello binary is several MiB: the readers below really have to join members
    assert "sha256:" + hashlib.sha256(b"".join(parts)).hexdigest() == built["config"]["rootfs"]["diff_ids"][-1]
    label = built["config"]["config"]["Labels"]["dev.slimgo.compression"]
    assert label.startswith("gzip 6 libdeflate-") and label.endswith("/members-1048576")


def test_docker_loads_and_runs_it(built: dict[str, Any], docker: str) -> None:
    subprocess.run([docker, "load", "-i", str(built["archive"])], capture_output=True, check=True, timeout=120)
    layers = subprocess.run([docker, "image", "inspect", "-f", "{{json .RootFS.Layers}}", built["tag"]],
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(layers) == built["config"]["rootfs"]["diff_ids"]
    ran = docker_run(docker, built["tag"], "-check")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["shell_absent"] is True


def test_skopeo_decompresses_every_layer_to_its_diff_id(built: dict[str, Any], skopeo: str) -> None:
    dest = built["dir"] / "skopeo-dir"
    subprocess.run([skopeo, "copy", "--dest-decompress", f"docker-archive:{built['archive']}", f"dir:{dest}"],
                   capture_output=True, check=True, timeout=120)
    for diff_id in built["config"]["rootfs"]["diff_ids"]:
        blob = dest / diff_id.split(":")[1]
        assert "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest() == diff_id


def test_crane_validates_it_and_refuses_a_first_member_diff_id(built: dict[str, Any], crane: str) -> None:
    ok = subprocess.run([crane, "validate", "--tarball", str(built["archive"])], capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0 and "PASS" in ok.stdout, ok.stdout + ok.stderr
    first = _gzip_members(built["layer"])[0]
    config = json.loads(json.dumps(built["config"]))
    whole = config["rootfs"]["diff_ids"][-1]
    config["rootfs"]["diff_ids"][-1] = "sha256:" + hashlib.sha256(first).hexdigest()
    bad = _rewrite(built["archive"], built["dir"] / "first-member.tar", built["manifest"]["Config"],
                   json.dumps(config).encode())
    refused = subprocess.run([crane, "validate", "--tarball", str(bad)], capture_output=True, text=True, timeout=120)
    # crane read every member: the diff_id it computed is the whole layer's, which the config no longer names
    assert refused.returncode != 0 and f"unknown diffID {whole}" in refused.stdout + refused.stderr


def _rewrite(src: Path, dest: Path, name: str, content: bytes) -> Path:
    """A copy of a docker archive with one file's content replaced (manifest.json finds the config by path)."""
    with tarfile.open(src) as tin, tarfile.open(dest, "w") as tout:
        for info in tin.getmembers():
            if info.name == name:
                info.size = len(content)
                tout.addfile(info, io.BytesIO(content))
            else:
                tout.addfile(info, tin.extractfile(info) if info.isfile() else None)
    return dest
