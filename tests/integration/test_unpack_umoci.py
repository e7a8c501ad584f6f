"""slimgo's rootfs unpacker and umoci's (a real, independent implementation of the OCI image spec's
layer application) give the same tree for the same legal layers: whiteouts, opaque whiteouts (lower
layers only), `./`, `..data`, symlinks replaced by files, hard links, owners and modes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from slimgo.sources.files import paths
from slimgo.sources.unpack import unpack_layers
from tests.support.hostile import (
    E,
    dir_,
    image_layout,
    layer,
    link,
    snapshot,
    source_layers,
    sym,
)
from tests.support.parts import require

pytestmark = pytest.mark.integration

CASES = {
    "whiteouts": ([E("./", "dir", mode=0o755), dir_("d"), E("d/old"), E("d/keep"), E("gone"), dir_("tree"),
                   E("tree/x"), sym("ln", "/etc/passwd"),
                   E("f", data=b"hi", mode=0o755, uid=65532, gid=65532), link("hl", "f")],
                  [E("d/new"), E("d/.wh..wh..opq"), E(".wh.gone"), E(".wh.tree"), E("..data", data=b"k8s"),
                   dir_("..2024"), E("ln", data=b"file now")]),
    "replace-kinds": ([dir_("a"), E("a/x"), E("b", data=b"b"), sym("c", "b"), dir_("e", 0o700)],
                      [E("a", data=b"file over dir"), dir_("b", 0o750), E("c", data=b"c"), dir_("e", 0o711),
                       E("e/y", mode=0o600, uid=1, gid=2)]),
    "same-layer-opaque": ([dir_("etc"), E("etc/a"), dir_("etc/sub"), E("etc/sub/b")],
                          [dir_("etc/sub"), E("etc/sub/c"), E("etc/.wh..wh..opq"), E("etc/z")]),
    "opaque-implicit-parent": ([dir_("etc"), dir_("etc/sub"), E("etc/sub/old"), E("etc/x")],
                               [E("etc/sub/new"), E("etc/.wh..wh..opq")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_tree_as_umoci(tmp_path: Path, case: str) -> None:
    umoci = shutil.which("umoci")
    require(umoci is not None, "umoci is not installed (scripts/test.sh installs it)")
    assert umoci is not None
    blobs = [layer(CASES[case][0]), layer(CASES[case][1], compress=True)]
    image_layout(blobs).write(tmp_path / "layout")
    subprocess.run([umoci, "raw", "unpack", "--image", f"{tmp_path / 'layout'}:t", str(tmp_path / "umoci")],
                   check=True, capture_output=True)
    mine = unpack_layers(source_layers(blobs), tmp_path / "mine")
    theirs = snapshot(tmp_path / "umoci")
    assert snapshot(mine) == theirs
    # analysis's in-memory view of the final filesystem (sources/files.py) agrees on every non-directory
    listed = paths(source_layers(blobs))
    assert {p for p in listed if p.lstrip("/") not in theirs or theirs[p.lstrip("/")][0] != "dir"} == \
        {"/" + k for k, v in theirs.items() if v[0] != "dir"}
