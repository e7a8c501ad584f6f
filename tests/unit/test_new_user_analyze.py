"""Issue 11 (what a new user hit), the `analyze` points that need no Go toolchain: crafted ELF files and
images, and a real non-Go binary of the system."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import tarfile
from pathlib import Path

import pytest

from slimgo.cli import main

LS = shutil.which("ls") or "/bin/ls"


def _elf(sections: list[tuple[int, int]], tail: int = 0) -> bytes:
    """An ELF64 file with a section header table of PROGBITS sections (offset, size) after a null entry."""
    shnum = len(sections) + 1
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, 64, 0, 64, 56, 0, 64, shnum, 0)
    table = bytes(64) + b"".join(struct.pack("<IIQQQQIIQQ", 0, 1, 0, 0, off, size, 0, 0, 1, 0)
                                 for off, size in sections)
    return ident + header + table + bytes(tail)


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_elf_errors_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # point 14
    bad = tmp_path / "broken-bin"
    bad.write_bytes(_elf([(64, 1 << 20)]))  # a section that ends 1 MiB past the end of the file
    code, _, err = run(capsys, "analyze", bad)
    assert code == 2
    assert err.count("\n") == 1 and f"{bad}: truncated or corrupt ELF" in err


def test_sections_add_up_to_the_file_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # 21
    f = tmp_path / "padded"
    data = _elf([(200, 100)], tail=300)  # header + table (192 bytes), a gap, a section, more padding
    f.write_bytes(data)
    code, out, _ = run(capsys, "analyze", f, "--json")
    assert code == 0
    doc = json.loads(out)
    assert sum(s["bytes"] for s in doc["sections"]) == doc["file_bytes"] == len(data)
    assert {"name": "(headers and padding)", "group": "headers and padding", "bytes": len(data) - 100,
            "compressed": False} in doc["sections"]


def test_text_output_shows_dt_needed_and_kept_symbols(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", LS)
    assert code == 0
    assert "needs libraries (DT_NEEDED):" in out and "libc.so.6" in out
    assert "symbols: stripped" in out and "stripped: symbols" not in out


def test_top_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:  # point 9
    code, out, err = run(capsys, "analyze", LS, "--top", "-3")
    assert code == 2 and out == "" and "--top" in err and "top -3" not in out


def _layout(root: Path, files: dict[str, bytes]) -> Path:
    """A one-layer OCI image layout holding `files`, written by hand so no slimgo writer is involved."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    ldesc = put(layer.getvalue())
    config = json.dumps({"os": "linux", "architecture": "amd64",
                         "rootfs": {"type": "layers", "diff_ids": [ldesc["digest"]]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **put(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **ldesc}]}).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                 **put(manifest)}]}
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root


def test_layouts_and_tarballs_are_detected_without_a_prefix(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # 18
    ls = Path(LS).read_bytes()
    layout = _layout(tmp_path / "layout", {"/app/one": ls, "/app/two": _elf([(64, 8)], tail=8)})
    archive = tmp_path / "image.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(layout, arcname=".")
    for target in (layout, archive):
        code, out, err = run(capsys, "analyze", target, "--binary", "/app/one", "--json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["image"].startswith(("oci:", "docker-archive:"))
        assert [b["image_path"] for b in doc["binaries"]] == ["/app/one"]
        assert doc["binaries"][0]["needed"] and doc["binaries"][0]["file_bytes"] == len(ls)
    code, _, err = run(capsys, "analyze", layout, "--binary", "/app/three")
    assert code == 2 and "/app/one, /app/two" in err
    code, _, err = run(capsys, "analyze", tmp_path / "image.tar.missing")
    assert code == 2 and "no such file" in err
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    code, _, err = run(capsys, "analyze", empty)
    assert code == 2 and "not an OCI image layout" in err


def test_binary_needs_an_image(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "analyze", LS, "--binary", "/app/x")
    assert code == 2 and "not an image" in err


def test_a_cut_off_section_is_named_by_index_when_its_name_is_cut_off_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A truncated Go binary loses its section-name table with the rest: "section ?" told the user nothing."""
    bad = tmp_path / "truncated"
    bad.write_bytes(_elf([(64, 1 << 20)]))  # shstrndx 0: no names at all
    code, _, err = run(capsys, "analyze", bad)
    size = bad.stat().st_size
    assert code == 2
    assert f"section #1 ends at byte {64 + (1 << 20)}, past the end of the file ({size} bytes)" in err


def test_a_device_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    """mmap of /dev/null failed with a bare "Invalid argument"; /dev/zero would read as endless zeros."""
    code, out, err = run(capsys, "analyze", "/dev/null", "--json")
    assert code == 2
    assert json.loads(out)["error"]["message"] == "/dev/null: not a regular file (a device, pipe or socket), not a binary"
    assert err.count("\n") == 1


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_by_name_not_waited_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """open() of a FIFO with no writer blocks: `analyze FIFO` hung in the ELF sniff (and then in the map)."""
    import os

    from slimgo.binary.elf import MappedFile
    from slimgo.errors import BadInput

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, out, _ = run(capsys, "analyze", str(fifo), "--json")
    assert code == 2
    assert json.loads(out)["error"]["message"] == f"{fifo}: not a regular file (a device, pipe or socket), not a binary"
    with pytest.raises(BadInput, match="is a directory"):  # the non-blocking open still names a directory
        MappedFile(tmp_path)


def test_a_registry_reference_gets_a_pointer_not_just_no_such_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "analyze", "registry.example.com/team/api:v1")
    assert code == 2
    assert "registry.example.com/team/api:v1: no such file; analyze reads binaries and local images" in err
    assert "slimgo inspect REF" in err
    code, _, err = run(capsys, "analyze", "missing-binary")
    assert code == 2 and err.strip().endswith("missing-binary: no such file")


def test_the_strip_recommendation_states_its_saving_once() -> None:
    """It read `would remove 2.57 MiB: DWARF …, symbol table … (saves 2.57 MiB)`: the same number twice."""
    from slimgo.binary.analysis import analyze_file

    go = shutil.which("go")
    binary = Path(go).resolve() if go else None  # the go command keeps its DWARF and symbols
    if binary is None or not binary.is_file():
        pytest.skip("no go binary on PATH to read (a Go binary with DWARF is needed)")
    rec = next(r for r in analyze_file(binary).recommendations if r.title.startswith('-ldflags "-s -w"'))
    assert rec.title.startswith('-ldflags "-s -w" removes DWARF ') and " and the symbol table " in rec.title
    assert rec.saves_bytes is not None and rec.saves_bytes > 0 and "would remove" not in rec.title
