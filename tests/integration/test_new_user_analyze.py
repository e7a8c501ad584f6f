"""Issue 11, the `analyze` points that need real parts: a real -w / -s -w pair from `go build`, `go tool nm`
as the oracle for .bss, and a Docker engine for `docker-daemon:`."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from tests.support.cli import slimgo
from tests.support.parts import HELLO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, go_bin: str) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("pair")
    env = {**os.environ, "CGO_ENABLED": "0"}
    for name, flags in (("w", "-w"), ("sw", "-s -w")):
        subprocess.run([go_bin, "build", f"-ldflags={flags}", "-o", str(out / name), "."], cwd=HELLO, check=True,
                       env=env)
    return out / "w", out / "sw"


def test_diff_compares_package_sizes_from_one_source(pair: tuple[Path, Path]) -> None:  # point 2
    run = slimgo("analyze", "--diff", *pair, "--json")
    assert run.code == 0, run.err
    d = run.json()
    assert d["size_source"].startswith("pclntab") and "only OLD has a symbol table" in d["size_source_note"]
    # -s removes the symbol table and nothing else: no package and no module changed
    assert d["packages"] == [] and d["modules"] == []
    assert [s["name"] for s in d["sections"]][0] == "symbol tables"
    text = slimgo("analyze", "--diff", *pair)
    assert text.code == 0 and "from pclntab" in text.out and "go:*" not in text.out


def test_bss_is_reported_apart_and_matches_go_tool_nm(pair: tuple[Path, Path], go_bin: str) -> None:  # 21
    w = pair[0]
    with open(w, "rb") as fh:
        nobits = [(s["sh_addr"], s["sh_addr"] + s["sh_size"]) for s in ELFFile(fh).iter_sections()
                  if s["sh_type"] == "SHT_NOBITS"]
    nm = subprocess.run([go_bin, "tool", "nm", "-size", str(w)], capture_output=True, text=True, check=True).stdout
    bss = 0
    for line in nm.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "DdBb" and any(lo <= int(parts[0], 16) < hi for lo, hi in nobits):
            bss += int(parts[1])
    doc = slimgo("analyze", w, "--json").json()
    assert doc["bss_bytes"] == bss > 0
    assert ".bss" in doc["package_sizes_note"]
    assert sum(s["bytes"] for s in doc["sections"]) == doc["file_bytes"] == w.stat().st_size


def test_analyze_reads_docker_daemon_images(docker: str) -> None:  # point 18
    ls = Path(shutil.which("ls") or "/bin/ls").read_bytes()
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("app/tool")
        info.size, info.mode = len(ls), 0o755
        tar.addfile(info, io.BytesIO(ls))
    name = f"slimgo-bugs-analyze-{uuid.uuid4().hex[:8]}:1"
    subprocess.run([docker, "import", "-", name], input=layer.getvalue(), check=True, capture_output=True)
    try:
        run = slimgo("analyze", f"docker-daemon:{name}", "--binary", "/app/tool", "--json")
        assert run.code == 0, run.err
        bins = run.json()["binaries"]
        assert [(b["image_path"], b["file_bytes"]) for b in bins] == [("/app/tool", len(ls))]
    finally:
        subprocess.run([docker, "rmi", "-f", name], capture_output=True)
    gone = slimgo("analyze", f"docker-daemon:{name}")
    assert gone.code == 2 and "no such image" in gone.err
