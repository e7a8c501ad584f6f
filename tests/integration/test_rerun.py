"""The last `go build` of a command line, started by the entry point before slimgo imports itself
(gobuild/rerun.py), with the real CLI and a real Go: it is taken over only when it is exactly the plan's
`go build`, and the image is always the one a build without it would have made."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from slimgo.gobuild.listing import PREFIX as LISTING_PREFIX
from slimgo.gobuild.slotfile import RECIPES
from slimgo.gobuild.toolchain import go_path
from tests.support.cli import Run, slimgo

pytestmark = pytest.mark.integration


def _module(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text("module example.com/rerun\n\ngo 1.21\n")
    (root / "main.go").write_text(f'package main\n\nfunc main() {{ println("{text}") }}\n')
    return root


class Logged:
    """A `go` that writes each call's first two arguments to a log, then runs the real one."""

    def __init__(self, tmp_path: Path):
        real = go_path()
        assert real is not None
        self.log = tmp_path / "go.log"
        self.go = tmp_path / "bin" / "go"
        self.go.parent.mkdir()
        self.go.write_text(f'#!/bin/sh\necho "$1 $2" >> "{self.log}"\nexec "{real}" "$@"\n')
        self.go.chmod(self.go.stat().st_mode | stat.S_IXUSR)
        self.env = {"SLIMGO_GO": str(self.go), "SLIMGO_CACHE": str(tmp_path / "cache")}

    def calls(self) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        self.log.unlink(missing_ok=True)
        return lines


def _build(src: Path, out: Path, go: Logged, *extra: str, env: dict[str, str] | None = None) -> Run:
    """The same command line every time (a recipe is kept per command line and directory); the tarball is
    then moved to `out`."""
    image = src.parent / "image.tar"
    run = slimgo("build", ".", "--tarball", image, "--json", *extra, cwd=src, env={**go.env, **(env or {})},
                 timeout=300)
    assert run.code == 0, run.err
    image.rename(out)
    return run


def _taken_over(build: dict[str, Any]) -> bool:
    """The build's `go build` was the one the entry point started (it reports how long before it began)."""
    return float(build["timings_seconds"].get("go_build_head_start", 0)) > 0


def _says(tarball: Path, text: str, tmp_path: Path) -> bool:
    """Whether the image's binary holds `text` (the program it was built from)."""
    unpacked = tmp_path / "unpacked"
    subprocess.run(["rm", "-rf", str(unpacked)], check=True)
    unpacked.mkdir()
    subprocess.run(["tar", "-xf", str(tarball), "-C", str(unpacked)], check=True)
    for layer in unpacked.rglob("*"):
        if layer.is_file() and layer.stat().st_size > 100_000:
            data = subprocess.run(["sh", "-c", f"gzip -dc '{layer}' 2>/dev/null || cat '{layer}'"],
                                  capture_output=True, check=False).stdout
            if text.encode() in data:
                return True
    return False


def test_the_last_go_build_starts_first_and_is_the_one_taken(tmp_path: Path) -> None:
    src = _module(tmp_path / "src", "rerun-one-7f3a")
    go = Logged(tmp_path)
    first = _build(src, tmp_path / "a.tar", go).json()
    assert go.calls().count("build -v") == 1 and not _taken_over(first)
    assert list((tmp_path / "cache" / "link" / RECIPES).iterdir()), "the build's recipe was written down"

    again = _build(src, tmp_path / "b.tar", go).json()
    calls = go.calls()
    assert calls.count("build -v") == 1 and _taken_over(again), calls  # started early, and taken over
    assert not [c for c in calls if c.startswith("list ")], calls  # go list's answer remembered (gobuild/listing.py)
    assert again["image_digest"] == first["image_digest"]

    (src / "main.go").write_text('package main\n\nfunc main() { println("rerun-two-9c1e") }\n')
    edited = _build(src, tmp_path / "c.tar", go).json()
    calls = go.calls()
    assert calls.count("build -v") == 1 and _taken_over(edited), calls
    assert len([c for c in calls if c.startswith("list ")]) == 1, calls  # a source changed: Go is asked again
    assert edited["image_digest"] != first["image_digest"]
    assert _says(tmp_path / "c.tar", "rerun-two-9c1e", tmp_path)
    assert not _says(tmp_path / "c.tar", "rerun-one-7f3a", tmp_path)

    # the same program built without any cache (no slot, no recipe): the same image
    fresh = slimgo("build", ".", "--tarball", tmp_path / "d.tar", "--json", "--no-cache", cwd=src,
                   env={**go.env, "SLIMGO_CACHE": str(tmp_path / "other-cache")})
    assert fresh.code == 0, fresh.err
    assert fresh.json()["image_digest"] == edited["image_digest"]


def test_a_go_build_the_plan_does_not_ask_for_is_stopped(tmp_path: Path) -> None:
    """Same command line, but .slimgo.yaml now sets a variable: the started `go build` has the old flags and
    holds the slot's lock; it is stopped, the plan's own runs, and nothing waits for the lock."""
    src = _module(tmp_path / "src", "flags")
    (src / "main.go").write_text('package main\n\nvar version = "none"\n\nfunc main() { println(version) }\n')
    go = Logged(tmp_path)
    plain = _build(src, tmp_path / "a.tar", go).json()
    go.calls()
    (src / ".slimgo.yaml").write_text("build:\n  ldflags: -s -w -X main.version=fromfile\n")
    other = _build(src, tmp_path / "b.tar", go).json()
    calls = go.calls()
    # the started one (unless stopped before its wrapper could log), then the plan's own
    assert calls[-1] == "build -v" and calls.count("build -v") <= 2 and not _taken_over(other), calls
    assert other["image_digest"] != plain["image_digest"]
    assert _says(tmp_path / "b.tar", "fromfile", tmp_path)
    # the recipe is now the new one: the next run takes it over
    again = _build(src, tmp_path / "c.tar", go).json()
    calls = go.calls()
    assert calls.count("build -v") == 1 and _taken_over(again), calls
    assert again["image_digest"] == other["image_digest"]


def test_the_environment_is_the_one_of_the_run_that_takes_it(tmp_path: Path) -> None:
    """The recipe keeps only what slimgo adds to the environment: the started `go build` runs in this run's
    environment (GOFLAGS here), exactly as the plan's own would, so it is taken over."""
    src = _module(tmp_path / "src", "env")
    (src / "tagged.go").write_text('//go:build slimgo_rerun\n\npackage main\n\nfunc init() { println("tagged") }\n')
    go = Logged(tmp_path)
    plain = _build(src, tmp_path / "a.tar", go).json()
    go.calls()
    tagged = _build(src, tmp_path / "b.tar", go, env={"GOFLAGS": "-tags=slimgo_rerun"}).json()
    calls = go.calls()
    assert calls.count("build -v") == 1 and _taken_over(tagged), calls
    assert tagged["image_digest"] != plain["image_digest"] and _says(tmp_path / "b.tar", "tagged", tmp_path)


def test_a_planted_file_in_the_slot_is_removed_before_the_early_go_build(tmp_path: Path) -> None:
    """Go takes an output whose build ID matches for up to date, even cut short: the entry point checks the
    slot's binary the way the compile step does before it starts Go."""
    src = _module(tmp_path / "src", "planted")
    go = Logged(tmp_path)
    first = _build(src, tmp_path / "a.tar", go).json()
    slots = [p for p in (tmp_path / "cache" / "link").iterdir() if p.is_dir() and p.name != RECIPES]
    assert len(slots) == 1
    binary = slots[0] / "rerun"
    data = binary.read_bytes()
    binary.unlink()
    binary.write_bytes(data[: len(data) // 2])  # cut short: the build ID near the start still matches
    os.utime(binary)
    again = _build(src, tmp_path / "b.tar", go).json()
    assert _taken_over(again)  # the entry point removed the cut file, so its early `go build` linked again
    assert again["image_digest"] == first["image_digest"]
    assert binary.stat().st_size == len(data)


def test_a_recipe_someone_else_may_write_is_not_run(tmp_path: Path) -> None:
    src = _module(tmp_path / "src", "trusted")
    go = Logged(tmp_path)
    first = _build(src, tmp_path / "a.tar", go).json()
    go.calls()
    (recipe,) = [p for p in (tmp_path / "cache" / "link" / RECIPES).iterdir() if not p.name.startswith(LISTING_PREFIX)]
    recipe.chmod(0o666)
    again = _build(src, tmp_path / "b.tar", go).json()
    calls = go.calls()
    assert calls.count("build -v") == 1 and not _taken_over(again), calls  # built once, the usual way
    assert again["image_digest"] == first["image_digest"]
