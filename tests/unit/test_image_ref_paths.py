"""A plain path to a `docker save` tar or a layout directory is read as one by every command that takes an
image (inspect, sbom, analyze), never looked up in a registry."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from slimgo.commands.analyze import image_spec
from slimgo.errors import BadInput
from slimgo.oci.transports import image_ref, sniff_path


def _tar(path: Path) -> Path:
    with tarfile.open(path, "w") as tf:
        data = b"{}"
        info = tarfile.TarInfo("index.json")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return path


def test_plain_paths_get_their_transport(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "image.tar")
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "index.json").write_text("{}")
    assert image_ref(str(archive)) == f"docker-archive:{archive}"
    assert image_ref(str(layout)) == f"oci:{layout}"
    assert image_spec(str(archive)) == f"docker-archive:{archive}"


def test_registry_references_and_prefixed_specs_stay_as_given(tmp_path: Path) -> None:
    assert image_ref("localhost:5000/app:1") == "localhost:5000/app:1"
    assert image_ref("oci:somewhere:tag") == "oci:somewhere:tag"
    assert sniff_path(str(tmp_path / "missing.tar")) is None
    plain = tmp_path / "notes.txt"
    plain.write_text("not an image")
    assert sniff_path(str(plain)) is None


def test_analyze_refuses_a_directory_that_is_not_a_layout(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not an OCI image layout"):
        image_spec(str(tmp_path))


def test_a_missing_path_is_bad_input_not_a_registry_lookup(tmp_path: Path) -> None:
    for missing in ("missing.tar", "./image", str(tmp_path / "gone")):
        with pytest.raises(BadInput, match="no such image file"):
            image_ref(missing)


def test_an_existing_path_that_is_not_an_image_is_named_as_such(tmp_path: Path) -> None:
    """`slimgo sbom ./keys` or `slimgo inspect /bin/ls` exist: "no such image file" sent users looking
    for a typo."""
    with pytest.raises(BadInput, match="a directory, but not an OCI image layout"):
        image_ref(str(tmp_path))
    plain = tmp_path / "notes.txt"
    plain.write_text("not an image")
    with pytest.raises(BadInput, match=r"notes.txt: not an image \(an OCI layout directory or a `docker save` tar"):
        image_ref(str(plain))
