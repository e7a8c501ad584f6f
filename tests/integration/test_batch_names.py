"""The programs of one module compiled together (gobuild/batch.py) are told apart by the names Go gives their
binaries in `go build -o DIR/`: a program must never be handed another program's binary from DIR."""

from __future__ import annotations

import subprocess
from pathlib import Path

from slimgo.gobuild.batch import Batches, Program
from slimgo.gobuild.build import GoProcesses, compile_binary
from slimgo.gobuild.target import resolve
from slimgo.gobuild.toolchain import find_toolchain
from slimgo.platform import Platform
from slimgo.strategy import GoFlags


def _main(root: Path, rel: str, says: str, imports: str = "") -> Path:
    (root / rel).mkdir(parents=True)
    (root / rel / "main.go").write_text(f"package main\n\n{imports}\nfunc main() {{ println({says!r}) }}\n"
                                        .replace("'", '"'))
    return root / rel


def test_go_names_a_v1_directory_v1_so_it_is_not_mistaken_for_another_program(tmp_path: Path, go_bin: str) -> None:
    """Go drops a major-version element (v2, v3…) from a binary's name, but not v0 or v1: `q/v1` is `v1` in DIR,
    as is `v1/v2`. The two would overwrite each other there, so one of them is built alone, and each program's
    binary is its own."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/names\n\ngo 1.21\n")
    # the first one is slower to compile and link, so Go writes the other one's binary to DIR first
    first = _main(src, "v1/v2", "I am v1/v2", 'import _ "net/http"\n')
    second = _main(src, "q/v1", "I am q/v1")
    toolchain = find_toolchain(go_bin)
    targets = [resolve(str(d), toolchain) for d in (first, second)]
    platform = Platform("linux", toolchain.goarch)
    batches = Batches([Program(t.package, src.resolve()) for t in targets], tmp_path / "together", GoProcesses(),
                      lambda _: None)
    try:
        for t, says in zip(targets, ("I am v1/v2", "I am q/v1"), strict=True):
            built = batches.binary(toolchain, t, GoFlags(), platform, tmp_path / "bin" / t.name) if batches.covers(t) \
                else None
            if built is None:
                built = compile_binary(toolchain, t, GoFlags(), platform, tmp_path / "alone" / t.name)
            ran = subprocess.run([str(built.path)], capture_output=True, text=True, timeout=30)
            assert ran.stderr.strip() == says
    finally:
        batches.close()
