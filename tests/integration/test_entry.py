"""The real `slimgo build DIR` takes the answers its entry point asked Go for before importing the CLI:
Go is asked `go list` once for the target, not a second time by the build (issue 12's rebuild path)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from slimgo.gobuild.toolchain import go_path
from tests.support.cli import slimgo
from tests.support.parts import HELLO

pytestmark = pytest.mark.integration


def test_the_entry_point_s_go_list_is_the_one_the_build_uses(tmp_path: Path) -> None:
    real = go_path()
    assert real is not None
    log = tmp_path / "go.log"
    wrapper = tmp_path / "go"
    wrapper.write_text(f'#!/bin/sh\necho "$1 $2" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    env = {"SLIMGO_GO": str(wrapper), "SLIMGO_CACHE": str(tmp_path / "cache"), "PATH": os.environ["PATH"]}
    # --no-cache: no answer is remembered between the runs (gobuild/listing.py; tests/unit/test_listing.py)
    run = slimgo("build", HELLO, "--tarball", tmp_path / "hello.tar", "--push", "--json", "--no-cache", env=env)
    assert run.code == 2 and "SLIMGO_REPO" in run.err  # --push with no REF and no $SLIMGO_REPO: refused
    run = slimgo("build", HELLO, "--tarball", tmp_path / "hello.tar", "--no-cache", env=env)
    assert run.code == 0, run.err
    calls = log.read_text().splitlines()
    assert calls.count("list -find") == 2 and calls.count("env -json") == 2  # one each per run
    assert calls.count("build -v") == 1  # the refused run never started a build
