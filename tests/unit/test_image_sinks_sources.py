"""The image model and the assembler, written by the sinks and read back by the sources (verifying digests)."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from slimgo.base.resolve import resolve_embedded
from slimgo.errors import BadInput, ImageFormatError
from slimgo.oci.layer import file_entry, write_layer
from slimgo.oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from slimgo.oci.model import ImageConfig, make_index
from slimgo.oci.reference import Reference
from slimgo.platform import Platform
from slimgo.sinks.archive import ArchiveSink
from slimgo.sinks.content import Published
from slimgo.sinks.layout import LayoutSink
from slimgo.sinks.sink import MultiSink, SinkResult
from slimgo.sources.files import decompressed_stream, elf_files, paths
from slimgo.sources.local import open_image
from slimgo.stages.assemble import Addendum, artifact_of, assemble
from tests.support.parts import OCI_SCHEMAS
from tests.support.schemas import validate


def _image(tmp: Path, platform: str = "linux/amd64", payload: bytes = b"hello"):  # type: ignore[no-untyped-def]
    p = Platform.parse(platform)
    base = resolve_embedded("scratch", p.oci(), tmp / "blobs", None, "gzip", 6)
    layer = write_layer([file_entry("app/x", payload, 0o755)], tmp / "blobs", comment="x binary")
    cfg = ImageConfig(platform=p.oci(), created="1970-01-01T00:00:00Z", user="65532", env=["A=1"],
                      entrypoint=["/app/x"], labels={"l": "v"})
    return assemble(base, [Addendum(layer, "slimgo build: go build", "x binary")], cfg)


def test_assembler_pairs_layers_with_history(tmp_path: Path) -> None:
    img = _image(tmp_path)
    cfg, manifest = img.config, img.manifest
    assert cfg["rootfs"]["diff_ids"] == [img.layers[0].diff_id]
    assert cfg["history"] == [{"created": "1970-01-01T00:00:00Z", "created_by": "slimgo build: go build",
                               "comment": "x binary"}]
    assert cfg["config"]["User"] == "65532" and cfg["config"]["Entrypoint"] == ["/app/x"]
    assert cfg["config"]["Env"][-1] == "A=1" and cfg["config"]["Labels"] == {"l": "v"}
    assert manifest["mediaType"] == OCI_MANIFEST
    assert img.digest == "sha256:" + hashlib.sha256(img.manifest_bytes).hexdigest()
    assert img.config_descriptor.digest == "sha256:" + hashlib.sha256(img.config_bytes).hexdigest()
    validate(OCI_SCHEMAS, "image-manifest-schema.json", manifest)
    validate(OCI_SCHEMAS, "config-schema.json", cfg)
    # same inputs, same bytes
    assert _image(tmp_path / "again").digest == img.digest


def test_index_and_layout_round_trip(tmp_path: Path) -> None:
    amd, arm = _image(tmp_path, "linux/amd64", b"a"), _image(tmp_path, "linux/arm/v7", b"b")
    index = make_index([amd, arm])
    assert artifact_of([amd]) is amd and artifact_of([amd, arm]).digest == index.digest
    validate(OCI_SCHEMAS, "image-index-schema.json", json.loads(index.manifest_bytes))
    out = LayoutSink(tmp_path / "layout").publish(Published(index, (Reference.parse("demo:1"),)))
    assert out.outputs == {"oci_layout": str(tmp_path / "layout")}
    validate(OCI_SCHEMAS, "image-layout-schema.json", json.loads((tmp_path / "layout" / "oci-layout").read_text()))
    top = json.loads((tmp_path / "layout" / "index.json").read_text())
    validate(OCI_SCHEMAS, "image-index-schema.json", top)
    assert top["manifests"][0]["mediaType"] == OCI_INDEX and top["manifests"][0]["digest"] == index.digest
    images = open_image(f"oci:{tmp_path / 'layout'}:1")
    assert [i.platform.key for i in images] == ["linux/amd64", "linux/arm/v7"]
    assert [i.manifest_digest for i in images] == [amd.digest, arm.digest]
    assert paths(images[1].layers) == frozenset({"/app", "/app/x"})


def test_archive_has_both_manifests_and_keeps_the_variant(tmp_path: Path) -> None:
    arm = _image(tmp_path, "linux/arm/v7")
    dest = tmp_path / "a.tar"
    ArchiveSink(dest, "arm").publish(Published(arm, (Reference.parse("demo:1"),)))
    with tarfile.open(dest) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert {"index.json", "oci-layout", "manifest.json"} <= names
    assert manifest[0]["RepoTags"] == ["demo:1"]
    # the OCI side of the archive
    assert open_image(f"docker-archive:{dest}")[0].platform == Platform("linux", "arm", "v7")
    # Docker's manifest.json side (an archive from `docker save` has no index.json): the variant survives
    legacy = tmp_path / "legacy.tar"
    with tarfile.open(dest) as src, tarfile.open(legacy, "w") as out:
        for m in src.getmembers():
            if m.name not in ("index.json", "oci-layout"):
                out.addfile(m, src.extractfile(m) if m.isfile() else None)
    [img] = open_image(f"docker-archive:{legacy}")
    assert img.platform.key == "linux/arm/v7"
    with img.layers[0].open() as fh, decompressed_stream(lambda: fh) as tar_stream:
        assert len(tar_stream.read()) > 0


def test_verifying_reader_refuses_a_corrupted_blob(tmp_path: Path) -> None:
    img = _image(tmp_path, payload=b"\x7fELF-not-really" * 100)
    LayoutSink(tmp_path / "l").publish(Published(img, (Reference.parse("c:1"),)))
    blob = tmp_path / "l" / "blobs" / "sha256" / img.layers[0].descriptor.hex
    data = bytearray(blob.read_bytes())
    data[-20] ^= 0xFF  # inside the gzip trailer region: still a readable stream for a while
    blob.write_bytes(bytes(data))
    [src] = open_image(f"oci:{tmp_path / 'l'}")
    with pytest.raises((ImageFormatError, OSError, EOFError)):
        with src.layers[0].open() as fh:
            while fh.read(1 << 16):
                pass
    # a corrupted config is refused when the image is opened
    cfg = tmp_path / "l" / "blobs" / "sha256" / img.config_descriptor.hex
    cfg.write_bytes(cfg.read_bytes().replace(b"65532", b"00000"))
    with pytest.raises(ImageFormatError, match="digest mismatch"):
        open_image(f"oci:{tmp_path / 'l'}")


def test_elf_files_lists_only_elf(tmp_path: Path) -> None:
    img = _image(tmp_path, payload=b"\x7fELF" + bytes(60))
    LayoutSink(tmp_path / "l").publish(Published(img))
    [src] = open_image(f"oci:{tmp_path / 'l'}")
    assert [f.path for f in elf_files(src)] == ["/app/x"]


def test_open_image_refuses_unknown_transports(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="oci:DIR"):
        open_image("ghcr.io/x/y:1")
    with pytest.raises(BadInput, match="no index.json"):
        open_image(f"oci:{tmp_path}")


class _Recorder:
    def __init__(self, name: str, remote: bool, log: list[str]) -> None:
        self.name, self.remote, self.log = name, remote, log

    def describe(self) -> str:
        return self.name

    def check(self) -> None:
        self.log.append(f"check {self.name}")

    def publish(self, pub: Published) -> SinkResult:
        self.log.append(f"publish {self.name}")
        return SinkResult({self.name: pub.digest}, (f"{self.name}@{pub.digest}",) if self.remote else ())


def test_multisink_checks_local_first_and_publishes_remote_first(tmp_path: Path) -> None:
    log: list[str] = []
    sinks = MultiSink([_Recorder("layout", False, log), _Recorder("registry", True, log),
                       _Recorder("archive", False, log)])
    sinks.check()
    img = _image(tmp_path)
    result = sinks.publish(Published(img), log.append)
    assert log[:3] == ["check layout", "check archive", "check registry"]
    assert [x for x in log[3:] if x.startswith("publish")] == ["publish registry", "publish layout", "publish archive"]
    assert list(result.outputs) == ["registry", "layout", "archive"]
    assert result.pushed == (f"registry@{img.digest}",)
