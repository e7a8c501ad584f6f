from __future__ import annotations

from pathlib import Path

import pytest

from slimgo import config
from slimgo.errors import BadInput
from slimgo.fsutil import atomic_dir, atomic_file
from slimgo.strategy import DEFAULT, GoFlags


def test_config_loads_build_section(tmp_path: Path) -> None:
    (tmp_path / ".slimgo.yaml").write_text(
        "build:\n  ldflags: -X a=b\n  tags: [netgo]\n  env: [GOAMD64=v3]\n  platforms: [linux/arm64]\n")
    cfg = config.load(tmp_path)
    assert cfg.build.ldflags == "-X a=b" and cfg.build.tags == ["netgo"]
    assert cfg.build.env == {"GOAMD64": "v3"} and cfg.build.platforms == ["linux/arm64"]


def test_config_missing_is_empty(tmp_path: Path) -> None:
    assert config.load(tmp_path).path is None


@pytest.mark.parametrize("body", ["- a\n- b\n", "build: 3\n", "build:\n  env: [NOEQUALS]\n",
                                  "build:\n  compression_level: true\n"])
def test_config_errors(tmp_path: Path, body: str) -> None:
    (tmp_path / ".slimgo.yaml").write_text(body)
    with pytest.raises(BadInput):
        config.load(tmp_path)


def test_user_ldflags_append_and_cgo_from_env() -> None:
    flags = DEFAULT.flags.with_user(ldflags="-X main.v=1", env={"CGO_ENABLED": "1", "GOAMD64": "v3"})
    assert flags.ldflags == "-s -w -X main.v=1"
    assert flags.cgo is True and dict(flags.env) == {"GOAMD64": "v3"}
    assert flags.go_env() == {"GOAMD64": "v3", "CGO_ENABLED": "1"}
    assert GoFlags(cgo=None, trimpath=False, ldflags="").command_line() == "go build"


def test_atomic_file_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "out.tar"
    with pytest.raises(RuntimeError):
        with atomic_file(dest) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_only_layouts(tmp_path: Path) -> None:
    dest = tmp_path / "layout"
    with atomic_dir(dest, replace_if="oci-layout") as tmp:
        (tmp / "oci-layout").write_text("{}")
    with atomic_dir(dest, replace_if="oci-layout") as tmp:  # an earlier layout is replaced
        (tmp / "oci-layout").write_text("{}")
        (tmp / "new").write_text("x")
    assert (dest / "new").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "precious").write_text("x")
    with pytest.raises(BadInput, match="not empty"):
        with atomic_dir(other, replace_if="oci-layout"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layout", "other"]


def test_invalid_yaml_names_the_line_that_needs_the_fix(tmp_path: Path) -> None:
    """An unclosed `[` is found at the end of the file; the message also names the line it was opened on."""
    (tmp_path / ".slimgo.yaml").write_text("build:\n  ldflags: [unclosed\n")
    with pytest.raises(BadInput) as err:
        config.load(tmp_path)
    assert str(err.value).endswith("invalid YAML at line 3: expected ',' or ']', but got '<stream end>' "
                                   "(while parsing a flow sequence from line 2)")


def test_a_read_only_output_folder_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from slimgo import fsutil

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(fsutil.os, "access", lambda path, mode: False)
    monkeypatch.setattr(fsutil.os, "statvfs", lambda path: ReadOnly())
    with pytest.raises(BadInput) as err:
        fsutil.check_writable(tmp_path / "out.tar")
    assert str(err.value) == f"{tmp_path / 'out.tar'}: cannot write in {tmp_path} (read-only file system)"
