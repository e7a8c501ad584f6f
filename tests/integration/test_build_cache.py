"""Issue 12 end to end: a rebuild of an unchanged program reuses the binary's compressed layer from the cache,
a corrupted cache entry is refused (the image stays right), and `--gzip-library` writes layers that GNU tar
reads and a label that says how they were compressed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from tests.support.cli import slimgo
from tests.support.parts import HELLO, unique_tag

pytestmark = pytest.mark.integration


def _build(out: Path, cache: Path, *extra: str) -> dict[str, Any]:
    run = slimgo("build", HELLO, "--oci-layout", out, "--json", *extra, env={"SLIMGO_CACHE": str(cache)})
    assert run.code == 0, run.err
    return cast(dict[str, Any], run.json())


def _binary_layer(doc: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], next(x for x in doc["layers"] if x["comment"].endswith("binary")))


def _config(layout: Path, doc: dict[str, Any]) -> dict[str, Any]:
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / doc["image_digest"].split(":")[1]).read_text())
    return cast(dict[str, Any], json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_text()))


def test_unchanged_binary_reuses_the_cached_layer_and_a_corrupt_one_is_refused(tmp_path: Path, go_bin: str) -> None:
    cache = tmp_path / "cache"
    first = _build(tmp_path / "a", cache)
    entries = list((cache / "layers").glob("layer-*.json"))
    assert len(entries) == 1  # the binary's layer, indexed by its tar digest and compression settings
    layer = _binary_layer(first)
    cached_blob = cache / "blobs" / "sha256" / layer["digest"].split(":")[1]
    assert cached_blob.is_file()
    stamp = cached_blob.stat().st_mtime_ns

    second = _build(tmp_path / "b", cache)
    assert second["image_digest"] == first["image_digest"]
    assert cached_blob.stat().st_mtime_ns == stamp  # reused, not rewritten

    raw = bytearray(cached_blob.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    cached_blob.write_bytes(bytes(raw))
    third = _build(tmp_path / "c", cache)
    assert third["image_digest"] == first["image_digest"]  # the corrupted entry was not used
    written = tmp_path / "c" / "blobs" / "sha256" / layer["digest"].split(":")[1]
    assert written.read_bytes() != bytes(raw)
    assert "dev.slimgo.compression" in _config(tmp_path / "a", first)["config"]["Labels"]


@pytest.mark.parametrize("library", ["isal", "zlib-ng", "libdeflate"])
def test_gzip_library_layers_are_plain_gzip(tmp_path: Path, go_bin: str, library: str) -> None:
    doc = _build(tmp_path / "out", tmp_path / "cache", "--gzip-library", library)
    layer = _binary_layer(doc)
    blob = tmp_path / "out" / "blobs" / "sha256" / layer["digest"].split(":")[1]
    listing = subprocess.run(["tar", "-tzvf", str(blob)], capture_output=True, text=True, check=True).stdout
    assert "app/hello" in listing
    label = _config(tmp_path / "out", doc)["config"]["Labels"]["dev.slimgo.compression"]
    assert label.startswith("gzip ") and f" {library}-" in label
    again = _build(tmp_path / "again", tmp_path / "cache2", "--gzip-library", library)
    assert again["image_digest"] == doc["image_digest"]  # reproducible with the same library version


def test_bad_library_level_is_refused_before_compiling(tmp_path: Path) -> None:
    run = slimgo("build", HELLO, "--gzip-library", "isal", "--compression-level", "6", "--oci-layout",
                 tmp_path / "out", env={"SLIMGO_CACHE": str(tmp_path / "cache")})
    assert run.code == 2
    assert "out of range for gzip (isal) (0-3)" in run.err
    assert not (tmp_path / "out").exists()


def test_engine_only_build_hands_the_engine_uncompressed_layers(tmp_path: Path, go_bin: str, docker: str) -> None:
    """`--load` alone: the engine stores layers uncompressed, so the program's layer is not deflated for it to
    inflate again. The label says so, the image runs, and a rebuild gives the engine the same image ID.
    With another destination beside the engine the layers stay gzip."""
    cache = str(tmp_path / "cache")
    first, second = unique_tag("engine-only"), unique_tag("engine-only")
    docs = []
    for tag in (first, second):
        run = slimgo("build", HELLO, "--load", "-t", tag, "--json", env={"SLIMGO_CACHE": cache})
        assert run.code == 0, run.err
        docs.append(run.json())
    assert _binary_layer(docs[0])["media_type"] == "application/vnd.oci.image.layer.v1.tar"
    ids = [subprocess.run([docker, "image", "inspect", "-f", "{{.Id}}", t], capture_output=True, text=True,
                          check=True).stdout.strip() for t in (first, second)]
    assert ids[0] == ids[1] and docs[0]["image_digest"] == docs[1]["image_digest"]
    labels = json.loads(subprocess.run([docker, "image", "inspect", "-f", "{{json .Config.Labels}}", first],
                                       capture_output=True, text=True, check=True).stdout)
    assert labels["dev.slimgo.compression"] == "none"
    ran = subprocess.run([docker, "run", "--rm", first, "-check"], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and json.loads(ran.stdout)["shell_absent"] is True
    both = _build(tmp_path / "both", tmp_path / "cache", "--load", "-t", unique_tag("engine-and-layout"))
    assert _binary_layer(both)["media_type"] == "application/vnd.oci.image.layer.v1.tar+gzip"


def test_an_unchanged_program_is_not_linked_again(tmp_path: Path, go_bin: str) -> None:
    """Go keeps its output up to date only where the last build left it: the slot in slimgo's cache. Go
    replaces a file it links anew (a new inode) and leaves a current one alone."""
    src = tmp_path / "hello"
    shutil.copytree(HELLO, src, ignore=shutil.ignore_patterns("dist"))
    cache = tmp_path / "cache"
    first = _build_at(src, tmp_path / "a", cache)
    [kept] = list((cache / "link").glob("*/hello"))
    linked = kept.stat().st_ino

    second = _build_at(src, tmp_path / "b", cache)
    assert kept.stat().st_ino == linked  # up to date: not linked again
    assert second["image_digest"] == first["image_digest"]

    (src / "edited.go").write_text('package main\n\nvar edited = "a new string"\n\n'
                                   'func init() {\n\tif edited == "" {\n\t\tpanic(edited)\n\t}\n}\n')
    third = _build_at(src, tmp_path / "c", cache)
    assert kept.stat().st_ino != linked  # the program changed: linked again, into the same slot
    assert third["image_digest"] != first["image_digest"]
    alone = slimgo("build", src, "--oci-layout", tmp_path / "d", "--json", "--no-cache")  # the work directory
    assert alone.code == 0, alone.err
    assert alone.json()["image_digest"] == third["image_digest"]  # where Go links changes no byte

    kept.write_bytes(b"planted: not a Go binary")  # Go refuses to replace a non-object file; slimgo removes it
    fourth = _build_at(src, tmp_path / "e", cache)
    assert fourth["image_digest"] == third["image_digest"]
    assert kept.read_bytes()[:4] == b"\x7fELF"


def _build_at(src: Path, out: Path, cache: Path) -> dict[str, Any]:
    run = slimgo("build", src, "--oci-layout", out, "--json", env={"SLIMGO_CACHE": str(cache)})
    assert run.code == 0, run.err
    return cast(dict[str, Any], run.json())


def test_go_s_build_id_names_the_binary_s_bytes(tmp_path: Path, go_bin: str) -> None:
    """The remembered layer digest (oci/layer_cache.remembered_tar_digest) is keyed by the build ID Go's
    linker notes in the binary: slimgo reads the same ID `go tool buildid` prints, an edit gives another,
    and a rebuild of the unchanged program keys the same remembered digest (no second entry)."""
    from slimgo.binary.elf import MappedFile, go_build_id, parse

    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/ids\n\ngo 1.21\n")
    ids = []
    for text in ("one", "two"):
        (src / "main.go").write_text(f'package main\n\nfunc main() {{ println("{text}") }}\n')
        out = tmp_path / text
        subprocess.run([go_bin, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."], cwd=src, check=True,
                       env={**os.environ, "CGO_ENABLED": "0"})
        with MappedFile(out) as m:
            ids.append(go_build_id(parse(m.view)))
        printed = subprocess.run([go_bin, "tool", "buildid", str(out)], capture_output=True, text=True, check=True)
        assert ids[-1] == printed.stdout.strip()
    assert ids[0] != ids[1]

    cache = tmp_path / "cache"
    first = _build(tmp_path / "a", cache)
    remembered = sorted(p.name for p in (cache / "digests").iterdir())
    again = _build(tmp_path / "b", cache)
    assert again["image_digest"] == first["image_digest"]
    assert sorted(p.name for p in (cache / "digests").iterdir()) == remembered and remembered


def test_an_unchanged_tarball_is_touched_not_written_again(tmp_path: Path, go_bin: str) -> None:
    """sinks/written.py: the same image into the same untouched tarball leaves the file (same inode) with a new
    mtime; a tarball changed since, a different image or --no-cache write it again, always the same bytes."""
    cache, out = tmp_path / "cache", tmp_path / "image.tar"

    def build(*extra: str) -> os.stat_result:
        run = slimgo("build", HELLO, "--tarball", out, "--json", *extra, env={"SLIMGO_CACHE": str(cache)})
        assert run.code == 0, run.err
        return out.stat()

    first = build()
    content = out.read_bytes()
    again = build()  # a second later or so: the clock has moved on
    assert again.st_ino == first.st_ino and again.st_mtime_ns > first.st_mtime_ns  # left in place, touched
    assert out.read_bytes() == content

    out.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))  # changed in place, same size
    build()
    assert out.read_bytes() == content  # written again

    before = out.stat().st_ino
    assert build("--tag", "example.com/other:1").st_ino != before and out.read_bytes() != content  # other items
    before = build().st_ino
    assert out.read_bytes() == content
    assert build("--no-cache").st_ino != before and out.read_bytes() == content  # --no-cache always writes
