"""gobuild/listing.py with real Go: `go list`'s answer for a package is remembered, and asked again as soon as
anything Go reads to give it differs (a source file, a go.mod or go.work on the way up, the environment), never
when a setting points Go at other files, never from a file someone else could have written."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from slimgo.gobuild.listing import PREFIX, listing
from slimgo.gobuild.target import _LIST, ask_early, resolve
from slimgo.gobuild.toolchain import find_toolchain, go_path
from tests.support.parts import HELLO, require


@pytest.fixture()
def wrapper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A `go` that logs each `go list` before running the real one, slimgo's cache and a copy of the hello
    module in tmp_path."""
    real = go_path()
    require(real is not None and shutil.which(real) is not None, "the Go toolchain is not installed")
    assert real is not None
    log = tmp_path / "calls"
    go = tmp_path / "bin" / "go"
    go.parent.mkdir()
    go.write_text(f'#!/bin/sh\n[ "$1" = list ] && echo list >> "{log}"\nexec "{shutil.which(real)}" "$@"\n')
    go.chmod(0o755)
    monkeypatch.setenv("SLIMGO_GO", str(go))
    monkeypatch.setenv("SLIMGO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GOENV", "off")  # the machine's `go env -w` file is not the test's
    module = tmp_path / "src" / "hello"
    shutil.copytree(HELLO, module)
    return module, log


def _build_target(module: Path, remember: bool = True) -> str:
    """What resolve() says of the package (as a build asks it), after asking the way the entry point does."""
    with ask_early(str(module), remember=remember) as early:
        return resolve(str(module), find_toolchain(None, early), early).package


def _lists(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_an_unchanged_package_is_not_listed_again(wrapper: tuple[Path, Path]) -> None:
    module, log = wrapper
    assert _build_target(module) == "example.com/hello"
    assert _lists(log) == 1
    assert _build_target(module) == "example.com/hello"
    assert _lists(log) == 1  # remembered
    (module / "image.tar").write_bytes(b"not a source")  # an output beside the sources does not count
    assert _build_target(module) == "example.com/hello"
    assert _lists(log) == 1


@pytest.mark.parametrize("change", ["edit", "new file", "go.mod", "go.work above", "nested go.mod", "env"])
def test_a_change_go_would_see_asks_go_again(wrapper: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
                                             change: str) -> None:
    module, log = wrapper
    _build_target(module)
    source = next(module.glob("*.go"))
    if change == "edit":
        source.write_text(source.read_text().replace("package main", "package main // edited", 1))
    elif change == "new file":
        (module / "extra.go").write_text("package main\n")
    elif change == "go.mod":
        (module / "go.mod").write_text((module / "go.mod").read_text() + "\n")
    elif change == "go.work above":
        (module.parent / "go.work").write_text("go 1.22\n\nuse ./hello\n")
    elif change == "nested go.mod":  # the package is now a module of its own: another import path
        inner = module / "cmd" / "inner"
        inner.mkdir(parents=True)
        (inner / "main.go").write_text("package main\n\nfunc main() {}\n")
        _build_target(inner)
        assert _lists(log) == 2
        (inner / "go.mod").write_text("module example.com/inner\n\ngo 1.22\n")
        assert _build_target(inner) == "example.com/inner"
        assert _lists(log) == 3
        return
    else:
        monkeypatch.setenv("GOFLAGS", "-mod=mod")
    _build_target(module)
    assert _lists(log) == 2


def test_a_package_clause_changed_in_place_is_seen(wrapper: tuple[Path, Path]) -> None:
    """Same size, same second: the ctime and mtime in nanoseconds still differ, and the error is Go's."""
    module, log = wrapper
    _build_target(module)
    source = next(module.glob("*.go"))
    text = source.read_text()
    source.write_text(text.replace("package main", "package mainx", 1).replace("\n\n", "\n", 1))
    from slimgo.errors import BadInput

    with pytest.raises(BadInput, match="not a main package"):
        _build_target(module)
    assert _lists(log) == 2


@pytest.mark.parametrize("setting", [("GOFLAGS", "-modfile=other.mod"), ("GOWORK", "/elsewhere/go.work")])
def test_a_setting_that_points_go_elsewhere_is_never_remembered(wrapper: tuple[Path, Path],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                setting: tuple[str, str]) -> None:
    module, _ = wrapper
    monkeypatch.setenv(*setting)
    assert listing(str(go_path()), _LIST, str(module)) is None


def test_the_go_env_file_is_read_for_such_settings(wrapper: tuple[Path, Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    module, log = wrapper
    settings = tmp_path / "goenv"
    monkeypatch.setenv("GOENV", str(settings))
    settings.write_text("GOPRIVATE=example.com\n")
    assert listing(str(go_path()), _LIST, str(module)) is not None
    _build_target(module)
    settings.write_text("GOPRIVATE=example.com\nGOFLAGS=-mod=mod\n")  # a new setting: asked again
    _build_target(module)
    assert _lists(log) == 2
    settings.write_text("GOFLAGS=-modfile=/tmp/x.mod\n")
    assert listing(str(go_path()), _LIST, str(module)) is None


def test_no_cache_neither_reads_nor_writes(wrapper: tuple[Path, Path], tmp_path: Path) -> None:
    module, log = wrapper
    _build_target(module, remember=False)
    _build_target(module, remember=False)
    assert _lists(log) == 2
    assert not list((tmp_path / "cache").glob(f"**/{PREFIX}*"))


def test_an_answer_anyone_else_could_write_is_not_used(wrapper: tuple[Path, Path], tmp_path: Path) -> None:
    module, log = wrapper
    _build_target(module)
    (record,) = (tmp_path / "cache").glob(f"**/{PREFIX}*")
    record.chmod(record.stat().st_mode | stat.S_IWGRP)
    _build_target(module)
    assert _lists(log) == 2


def test_a_relative_cache_remembers_nothing(wrapper: tuple[Path, Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative $SLIMGO_CACHE names a folder inside whatever project one stands in (gobuild/rerun.py)."""
    module, log = wrapper
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLIMGO_CACHE", "cache")
    _build_target(module)
    _build_target(module)
    assert _lists(log) == 2
    assert not os.path.exists(tmp_path / "cache")


def test_a_failed_answer_is_not_remembered(wrapper: tuple[Path, Path], tmp_path: Path) -> None:
    module, log = wrapper
    library = module / "lib"
    library.mkdir()
    (library / "lib.go").write_text("package lib\n")
    from slimgo.errors import BadInput

    for _ in range(2):
        with pytest.raises(BadInput, match="not a main package"):
            _build_target(library)
    assert _lists(log) == 2


def test_an_overlay_is_never_remembered(wrapper: tuple[Path, Path], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """-overlay points Go at other files (even another go.mod) by a JSON file nothing here fingerprints."""
    module, log = wrapper
    overlay = tmp_path / "overlay.json"
    overlay.write_text('{"Replace":{}}')
    monkeypatch.setenv("GOFLAGS", f"-overlay={overlay}")
    assert _build_target(module) == "example.com/hello"
    other = tmp_path / "other.mod"
    other.write_text("module example.com/other\n\ngo 1.22\n")
    overlay.write_text('{"Replace":{"%s":"%s"}}' % (module / "go.mod", other))
    assert _build_target(module) == "example.com/other"


def test_goroot_go_env_is_read_for_such_settings(wrapper: tuple[Path, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """$GOROOT/go.env is the third place Go reads GOFLAGS and GOWORK from (after the environment and GOENV)."""
    module, _ = wrapper
    root = tmp_path / "goroot"
    root.mkdir()
    monkeypatch.setenv("GOROOT", str(root))
    (root / "go.env").write_text("GOFLAGS=-modfile=/elsewhere/go.mod\n")
    assert listing(str(go_path()), _LIST, str(module)) is None
    (root / "go.env").write_text("GOWORK=/elsewhere/go.work\n")
    assert listing(str(go_path()), _LIST, str(module)) is None


def test_a_relative_goenv_is_the_package_directory_s(wrapper: tuple[Path, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Go opens a relative GOENV in its working directory, the package's, not slimgo's."""
    module, log = wrapper
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOENV", "goenv")
    _build_target(module)
    (module / "goenv").write_text("GOFLAGS=-mod=mod\n")
    _build_target(module)
    assert _lists(log) == 2


def test_a_package_reached_through_a_symlink_is_found_as_go_finds_it(wrapper: tuple[Path, Path], tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Go takes $PWD as its working directory when it names the same directory (os.Getwd), and looks for go.mod
    and go.work up from there: standing in a symlink to the package, those above the link are the ones it reads."""
    module, log = wrapper
    (module / "go.mod").unlink()
    outer = tmp_path / "outer"
    outer.mkdir()
    (outer / "go.mod").write_text("module example.com/one\n\ngo 1.22\n")
    (outer / "app").symlink_to(module)
    monkeypatch.chdir(outer / "app")
    monkeypatch.setenv("PWD", str(outer / "app"))
    assert _build_target(Path(".")) == "example.com/one/app"
    (outer / "go.mod").write_text("module example.com/two\n\ngo 1.22\n")
    assert _build_target(Path(".")) == "example.com/two/app"
    assert _lists(log) == 2


def test_a_folder_named_go_mod_is_passed_over(wrapper: tuple[Path, Path]) -> None:
    """Go looks further up past a go.mod that is not a file; so must the fingerprint."""
    module, _ = wrapper
    inner = module / "cmd" / "inner"
    (inner / "go.mod").mkdir(parents=True)
    (inner / "main.go").write_text("package main\n\nfunc main() {}\n")
    assert _build_target(inner) == "example.com/hello/cmd/inner"
    (module / "go.mod").write_text((module / "go.mod").read_text().replace("example.com/hello", "example.com/moved"))
    assert _build_target(inner) == "example.com/moved/cmd/inner"


def test_a_file_changed_this_second_on_a_coarse_file_system_is_not_remembered(
        wrapper: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """ext4 with 128-byte inodes, ext3, HFS+, FAT keep times to the second (simulated here by rounding the
    stats): an edit later in the same second, of the same size, leaves the same stat, so the answer of a
    package changed in the last 2 s is not remembered (reproduced on a loop-mounted `mkfs.ext4 -I 128`)."""
    module, log = wrapper
    from slimgo.gobuild import listing as listing_module

    real_stat = listing_module._stat

    def coarse(path: str) -> str:
        fields = real_stat(path).split(":")
        if len(fields) == 6:
            fields[3] = fields[4] = str(int(fields[4]) // 10**9 * 10**9)
        return ":".join(fields)

    monkeypatch.setattr(listing_module, "_stat", coarse)
    _build_target(module)
    source = next(module.glob("*.go"))
    source.write_text(source.read_text().replace("package main", "package mian", 1))
    from slimgo.errors import BadInput

    with pytest.raises(BadInput, match="not a main package"):
        _build_target(module)
    monkeypatch.setattr(listing_module, "_now_ns", lambda: 10**9 * 4_000_000_000)  # long after: remembered
    with pytest.raises(BadInput):
        _build_target(module)
    source.write_text(source.read_text().replace("package mian", "package main", 1))
    _build_target(module)
    _build_target(module)
    assert _lists(log) == 4


def test_another_toolchain_behind_the_same_go_asks_again(wrapper: tuple[Path, Path], tmp_path: Path) -> None:
    """A version manager's shim (asdf, mise, goenv) switches toolchains from a file no fingerprint covers;
    `go env`, asked on every run, names the toolchain, and a remembered answer stands only for its own."""
    module, log = wrapper
    real = shutil.which("go")  # the toolchain on PATH (go_path() is now the wrapper itself)
    assert real is not None
    switch = tmp_path / "tool-versions"
    shim = Path(str(go_path()))
    shim.write_text(  # the wrapper, now also reporting another version when the switch file says so
        f'#!/bin/sh\n[ "$1" = list ] && echo list >> "{log}"\n'
        f'if [ "$1" = env ] && [ -s "{switch}" ]; then "{real}" "$@" | '
        f'sed "s/\\"GOVERSION\\": \\"go[^\\"]*\\"/\\"GOVERSION\\": \\"$(cat {switch})\\"/"; exit; fi\n'
        f'exec "{real}" "$@"\n')
    _build_target(module)  # the shim changed: its stat is in the fingerprint, so this one asks Go
    _build_target(module)
    assert _lists(log) == 1
    switch.write_text("go1.99.0")
    with ask_early(str(module), remember=True) as early:
        toolchain = find_toolchain(None, early)
        assert toolchain.version == "go1.99.0"
        resolve(str(module), toolchain, early)
    assert _lists(log) == 2  # asked again: the answer was another toolchain's
    assert _build_target(module) == "example.com/hello" and _lists(log) == 2  # and remembered for this one
