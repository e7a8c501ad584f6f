"""inspect's pure parts on hand-made layers: the tar reader against tarfile, the bounds on hostile
input, whiteouts and symlinks, dive's waste rules on known layers, and the CI threshold syntax."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from slimgo.errors import BadInput, ImageFormatError
from slimgo.inspect import ci, read, waste
from slimgo.inspect import fs as fs_mod
from slimgo.inspect.tarstream import TarStream
from slimgo.platform import Platform
from slimgo.sources.local import SourceImage, SourceLayer


def tar_bytes(members: list[tuple[str, bytes | str | None, dict]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """(name, data, attrs): data None makes a directory, a str a symlink target."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data, attrs in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
            elif isinstance(data, str):
                info.type, info.linkname = attrs.pop("type", tarfile.SYMTYPE), data
            else:
                info.size = len(data)
            for k, v in attrs.items():
                setattr(info, k, v)
            tar.addfile(info, io.BytesIO(data) if isinstance(data, bytes) else None)
    return buf.getvalue()


def image(*layers: bytes, config: dict | None = None, compress: bool = False) -> SourceImage:
    diff_ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in layers]
    blobs = [gzip.compress(b, mtime=0) if compress else b for b in layers]
    src = tuple(SourceLayer("sha256:" + hashlib.sha256(b).hexdigest(), "", len(b), lambda b=b: io.BytesIO(b))
                for b in blobs)
    cfg = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids},
           "config": {}, **(config or {})}
    return SourceImage("test", Platform("linux", "amd64"), cfg, src)


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_tar_reader_agrees_with_tarfile(fmt: int) -> None:
    long = "d/" + "x" * 90 + "/" + "y" * 60 + "/file"  # a ustar prefix + name split, or a long-name header
    members = [("d", None, {"mode": 0o755}), (long, b"hello", {"uid": 1000, "gid": 1000, "mode": 0o4755}),
               ("d/link", "file", {}), ("d/hard", "d/file", {"type": tarfile.LNKTYPE}), ("big", b"y" * 70000, {})]
    if fmt != tarfile.USTAR_FORMAT:
        members.append(("huge-uid", b"z", {"uid": 10_000_000}))
    data = tar_bytes(members, fmt)
    expected = [(m.name, m.size if m.isreg() else m.size, m.mode, m.uid, m.linkname)
                for m in tarfile.open(fileobj=io.BytesIO(data))]
    stream = TarStream(io.BufferedReader(io.BytesIO(data)), 1 << 20)  # type: ignore[arg-type]
    got = []
    while (h := stream.next()) is not None:
        content = b""
        while chunk := stream.read(1 << 16):
            content += chunk
        if h.isreg():
            assert len(content) == h.size
        got.append((h.name.rstrip("/"), h.size, h.mode, h.uid, h.linkname))
    assert got == expected


def test_capability_xattr_is_seen() -> None:
    data = tar_bytes([("bin/ping", b"\x7fELF", {"pax_headers": {"SCHILY.xattr.security.capability": "\x01\x00"}})])
    scan = read.scan(image(data))
    assert scan.layers[0].entries[0].caps


def test_bounds_refuse_hostile_layers() -> None:
    with pytest.raises(ImageFormatError, match="escapes the image root"):
        read.scan(image(tar_bytes([("../../etc/passwd", b"x", {})])))
    with pytest.raises(ImageFormatError, match="outside the image root"):
        read.scan(image(tar_bytes([("a", "../../../etc/shadow", {"type": tarfile.LNKTYPE})])))
    many = tar_bytes([(f"f{i}", b"", {}) for i in range(50)])
    with pytest.raises(ImageFormatError, match="more than 20 entries"):
        read.scan(image(many), read.Limits(max_entries=20))
    bomb = tar_bytes([("zeros", bytes(4 << 20), {})])
    with pytest.raises(ImageFormatError, match="decompression bomb"):
        read.scan(image(bomb, compress=True), read.Limits(ratio_floor=1 << 20, max_ratio=100))
    pax = tar_bytes([("p" * 3000, b"x", {})])  # a 3000-byte name needs a PAX header
    with pytest.raises(ImageFormatError, match="PAX header"):
        read.scan(image(pax), read.Limits(max_header=512))
    img = image(tar_bytes([("a", b"x", {})]))
    img.config["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
    img2 = SourceImage(img.ref, img.platform, img.config,
                       (SourceLayer("layer.tar", "", 0, img.layers[0].open),))
    with pytest.raises(ImageFormatError, match="digest mismatch"):
        read.scan(img2)


def test_whiteouts_opaque_and_symlinks() -> None:
    l0 = tar_bytes([("etc", None, {}), ("etc/a", b"1", {}), ("etc/d", None, {}), ("etc/d/x", b"22", {}),
                    ("o", None, {}), ("o/old", b"333", {}), ("lib64", "usr/lib", {}), ("usr", None, {}),
                    ("usr/lib", None, {}), ("usr/lib/ld.so", b"\x7fELF", {}), ("loop", "loop", {})])
    l1 = tar_bytes([("etc/.wh.d", b"", {}), ("o/.wh..wh..opq", b"", {}), ("o/new", b"4444", {}),
                    ("etc/a", b"11", {})])
    scan = read.scan(image(l0, l1))
    fs, deltas = fs_mod.build(scan)
    assert "/etc/d/x" not in fs.entries and "/o/old" not in fs.entries and "/o/new" in fs.entries
    assert fs.lookup("/lib64/ld.so") is not None and fs.resolve("/loop") is None
    assert (deltas[1].removed, deltas[1].removed_bytes, deltas[1].changed, deltas[1].added) == (3, 5, 1, 1)


def test_dive_waste_rules() -> None:
    """Overwritten: counted in every layer. A whiteout of a file weighs 0, of a directory its contents."""
    l0 = tar_bytes([("a", b"x" * 100, {}), ("d", None, {}), ("d/x", b"y" * 40, {}), ("keep", b"k" * 10, {})])
    l1 = tar_bytes([("a", b"x" * 300, {})])
    l2 = tar_bytes([(".wh.a", b"", {}), (".wh.d", b"", {})])
    w = waste.dive_waste(read.scan(image(l0, l1, l2)))
    by_path = {i.path: (i.count, i.cumulative_bytes) for i in w.inefficiencies}
    assert by_path == {"/a": (3, 400)}  # /d is a leaf only once (as its whiteout): not an inefficiency
    assert w.wasted_bytes == 400 and w.layer_bytes == [150, 300, 0]
    # minimum: a 0 + d 40 (whiteout weighs the directory) + d/x 40 + keep 10; total: 400 + 40 + 40 + 10
    assert w.efficiency == pytest.approx(90 / 490)
    assert w.user_wasted_percent == pytest.approx(400 / 300)


def test_byte_syntax_and_threshold_precedence(tmp_path: Path) -> None:
    assert ci.parse_bytes("20MB", "x") == 20_000_000 and ci.parse_bytes("20MiB", "x") == 20 << 20
    assert ci.parse_bytes("1000", "x") == 1000
    with pytest.raises(BadInput):
        ci.parse_bytes("lots", "x")
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: 0.7\n  highestWastedBytes: 5MB\n")
    (tmp_path / ".slimgo.yaml").write_text("inspect:\n  lowest_efficiency: 0.8\n  no_shell: false\n")
    t = ci.load(tmp_path, {"lowestEfficiency": None, "highestWastedBytes": "1MiB", "highestUserWastedPercent": None},
                None)
    assert t.raw == {"lowestEfficiency": "0.8", "highestWastedBytes": "1MiB", "highestUserWastedPercent": "0.1"}
    assert not t.rules["no_shell"] and t.source["highestWastedBytes"] == "--highest-wasted-bytes"
    (tmp_path / ".slimgo.yaml").write_text("inspect:\n  lowestEfficency: 0.8\n")
    with pytest.raises(BadInput, match="unknown key"):
        ci.load(tmp_path, {}, None)


def test_history_is_redacted() -> None:
    from slimgo.inspect.surface import redact

    line = '|2 DB_PASSWORD=hunter3 MODE=prod /bin/sh -c echo AKIAABCDEFGHIJKLMNOP && export API_TOKEN="a b"'
    out = redact(line)
    assert "hunter3" not in out and "AKIA" not in out and '"a b"' not in out
    assert "MODE=prod" in out and "DB_PASSWORD=<redacted>" in out


def test_kept_config_text_is_bounded() -> None:
    many = tar_bytes([(f"etc/ld.so.conf.d/{i}.conf", b"/usr/lib\n", {}) for i in range(20)])
    with pytest.raises(ImageFormatError, match="configuration files"):
        read.scan(image(many), read.Limits(max_texts=4096))
    assert len(read.scan(image(many)).layers[0].texts) == 20
