"""The worst hostile inputs through the real CLI, under `prlimit --as`: each ends with one line and its
documented exit code, within bounded time and address space, and writes nothing outside its target."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.hostile import (
    Blob,
    E,
    Layout,
    build_elf,
    config_for,
    image_layout,
    layer,
    manifest_for,
)
from tests.support.hostile_registry import Handler, HostileRegistry
from tests.support.parts import HELLO, require

pytestmark = pytest.mark.integration

GiB = 1 << 30


@dataclass
class Limited:
    code: int
    out: str
    err: str
    seconds: float

    def error_line(self) -> str:
        lines = [line for line in self.err.splitlines() if line.startswith("slimgo: error:")]
        assert len(lines) == 1 and "Traceback" not in self.err, self.err
        return lines[0]


def slimgo_limited(*args: str | Path, address_space: int = GiB, timeout: float = 120,
                   env: dict[str, str] | None = None, cwd: Path | None = None) -> Limited:
    prlimit = shutil.which("prlimit")
    require(prlimit is not None, "prlimit (util-linux) is not installed")
    assert prlimit is not None
    t0 = time.monotonic()
    proc = subprocess.run([prlimit, f"--as={address_space}", sys.executable, "-m", "slimgo", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})})
    return Limited(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)


def _gzip_member(data: bytes) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def test_two_large_elf_files_are_not_held_in_memory(tmp_path: Path) -> None:
    """2 x 320 MiB ELF files in one layer, analysed within 800 MiB of address space: holding both (as
    analysis did, 2.9 GB for the review's 2 x 700 MB) cannot fit, one mapped at a time does. The layer is a
    multi-member gzip, so building it costs one compression of zeros."""
    size = 320 << 20
    elf = build_elf([(".text", 1, b"\x90" * 64)])
    zeros = _gzip_member(b"\0" * (size - len(elf) + (-size) % 512))
    members = []
    raw = bytearray()
    for name in ("bin/a", "bin/b"):
        info = tarfile.TarInfo(name)
        info.size, info.mode = size, 0o755
        header = info.tobuf(format=tarfile.USTAR_FORMAT)
        members += [_gzip_member(header + elf), zeros]
        raw += header  # for the diff_id below, hashed lazily
    members.append(_gzip_member(b"\0" * 1024))
    blob = Blob(b"".join(members), "application/vnd.oci.image.layer.v1.tar+gzip")
    import hashlib

    h = hashlib.sha256()
    block = b"\0" * (1 << 20)
    for name in ("bin/a", "bin/b"):
        info = tarfile.TarInfo(name)
        info.size, info.mode = size, 0o755
        h.update(info.tobuf(format=tarfile.USTAR_FORMAT) + elf)
        left = size - len(elf) + (-size) % 512
        while left:
            n = min(left, len(block))
            h.update(block[:n])
            left -= n
    h.update(b"\0" * 1024)
    cfg = Blob(json.dumps({"architecture": "amd64", "os": "linux",
                           "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h.hexdigest()]}}).encode(),
               "application/vnd.oci.image.config.v1+json")
    lay = image_layout([blob], config=cfg, manifest=manifest_for(cfg, [blob]))
    root = lay.write(tmp_path / "layout")
    run = slimgo_limited("analyze", f"oci:{root}", "--json", address_space=800 << 20, timeout=300,
                         env={"TMPDIR": str(tmp_path)})
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["binaries"] == [] and doc["unreadable"] == []  # two ELF files, neither Go
    assert sorted(os.listdir(tmp_path)) == ["layout"]  # the spooled copies are gone


def test_3000_deep_index_chain(tmp_path: Path) -> None:
    good = layer([E("app", data=b"x")])
    lay = image_layout([good])
    child = json.loads(lay.index)["manifests"][0]
    for _ in range(3000):
        idx = Blob(json.dumps({"schemaVersion": 2, "manifests": [child]}).encode(),
                   "application/vnd.oci.image.index.v1+json")
        lay.add(idx)
        child = idx.descriptor()
    lay.index = json.dumps({"schemaVersion": 2, "manifests": [child]}).encode()
    root = lay.write(tmp_path / "layout")
    run = slimgo_limited("analyze", f"oci:{root}", "--json")
    assert run.code == 2 and "nested deeper than" in run.error_line() and run.seconds < 20


def test_3000_deep_json_index(tmp_path: Path) -> None:
    root = Layout(index=b"[" * 3000 + b"]" * 3000).write(tmp_path / "layout")
    run = slimgo_limited("analyze", f"oci:{root}")
    assert run.code == 2 and "nested too deeply" in run.error_line()


def test_base_whose_layer_digest_names_a_host_file(tmp_path: Path, go_bin: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CI_TOKEN=hunter2")
    good = layer([E("etc/x", data=b"x")])
    cfg = config_for([good])
    rel = os.path.relpath(secret, tmp_path / "layout" / "blobs" / "sha256")
    man = manifest_for(cfg, [good], layer_descs=[{"mediaType": good.media_type, "digest": f"sha256:{rel}",
                                                   "size": secret.stat().st_size}])
    root = image_layout([good], config=cfg, manifest=man).write(tmp_path / "layout")
    cache = tmp_path / "cache"
    out = tmp_path / "out.tar"
    run = slimgo_limited("build", HELLO, "--base", f"oci:{root}", "--tarball", out, "--no-reference",
                         env={"SLIMGO_CACHE": str(cache)})
    assert run.code == 2 and "malformed digest" in run.error_line()
    assert not out.exists()
    assert not any("hunter2" in p.read_text(errors="replace") for p in cache.rglob("*") if p.is_file())


def test_markup_in_names_and_errors_is_printed_literally(tmp_path: Path) -> None:
    weird = tmp_path / "a[" / "x]b[link=evil.example]me"  # the path reads a[/x]b[link=…]
    weird.parent.mkdir()
    shutil.copy(sys.executable, weird)  # a real ELF file, not Go
    run = slimgo_limited("analyze", weird)
    assert run.code == 0, run.err
    assert "a[/x]b[link=evil.example]me" in run.out
    missing = slimgo_limited("analyze", f"oci:{tmp_path}/[/x]")
    assert missing.code == 2 and "[/x]" in missing.error_line()


def test_registry_failing_with_5xx_is_exit_3(tmp_path: Path, go_bin: str) -> None:
    with HostileRegistry().run() as reg:
        @reg.route("*", "/v2/")
        def down(h: Handler) -> None:
            h.reply(503, b"[1]", {"Retry-After": "0"})

        run = slimgo_limited("build", HELLO, "--push", f"{reg.host}/x:1", "--no-reference",
                             "--tarball", tmp_path / "a.tar", timeout=120)
    assert run.code == 3 and "503" in run.error_line(), run.err
    assert not (tmp_path / "a.tar").exists()  # the compile beside the check was stopped, nothing written


def test_registry_base_with_an_endless_manifest(tmp_path: Path, go_bin: str) -> None:
    """A base registry that streams its manifest forever: one line, exit 2, within 1 GiB of address space;
    the compile started beside the base check is stopped."""
    with HostileRegistry().run() as reg:
        @reg.route("GET", "/v2/base/manifests/")
        def endless(h: Handler) -> None:
            h.drip(200, b" " * 65536, 0.0, reg.stop, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})

        run = slimgo_limited("build", HELLO, "--base", f"{reg.host}/base:1", "--tarball", tmp_path / "a.tar",
                             address_space=GiB, timeout=120, env={"SLIMGO_CACHE": str(tmp_path / "cache")})
    assert run.code == 2 and "limit" in run.error_line() and run.seconds < 60, run.err
    assert not (tmp_path / "a.tar").exists()  # the compile beside the check was stopped, nothing written
