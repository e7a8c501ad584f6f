"""The entry point reads `slimgo build`'s target off argv without click, to ask Go before the CLI is imported
(issue 12: an unchanged rebuild waited ~0.1 s for those imports before its first `go` process). The guess
must know every option of `build` that takes a value, or a value would be taken for the target."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from slimgo.commands.build import build
from slimgo.entry import _MANY_FLAGS, BUILD_OPTIONAL_VALUE, BUILD_VALUE_OPTIONS, build_targets, early_answers
from tests.support.parts import HELLO


def _names(option: click.Option) -> set[str]:
    return set(option.opts) | set(option.secondary_opts)


def test_the_value_options_are_build_s_own() -> None:
    options = [p for p in build.params if isinstance(p, click.Option)]
    takes_value = {n for o in options if not o.is_flag and not o._flag_needs_value for n in _names(o)}
    optional = {n for o in options if o._flag_needs_value for n in _names(o)}
    assert BUILD_VALUE_OPTIONS == takes_value
    assert BUILD_OPTIONAL_VALUE == optional


def test_the_many_flags_are_build_s_naming_and_jobs() -> None:
    naming = {n for p in build.params if isinstance(p, click.Option) and p.name in ("naming", "jobs")
              for n in _names(p)}
    assert _MANY_FLAGS == naming


@pytest.mark.parametrize(("argv", "targets"), [
    (["build"], []),
    (["build", "./cmd/api"], ["./cmd/api"]),
    (["build", "--tag", "x:1", "-o", "out.tar", "./cmd/api", "--json"], ["./cmd/api"]),
    (["build", "--ldflags=-X main.v=1", "--platform", "linux/arm64", "."], ["."]),
    (["build", "--push", "reg.example/x", "."], ["."]),  # --push takes the next word when it is not an option
    (["build", ".", "--push"], ["."]),
    (["build", "--push", "--json", "."], ["."]),
    (["build", "--", "-odd-dir"], ["-odd-dir"]),
    (["build", "a", "b"], ["a", "b"]),
])
def test_targets_are_read_off_a_build_command_line(argv: list[str], targets: list[str]) -> None:
    assert build_targets(argv) == targets


@pytest.mark.parametrize("argv", [
    [], ["analyze", "x"], ["build", "--help"], ["build", "-h", "."], ["build", "-B", "./..."],
    ["build", "--jobs=3", "."], ["build", "--bare", "."],
])
def test_no_guess_for_other_commands_help_or_several_programs(argv: list[str]) -> None:
    assert build_targets(argv) is None
    assert early_answers(argv) is None


def test_several_targets_or_a_pattern_are_not_asked_early() -> None:
    assert early_answers(["build", "a", "b"]) is None
    assert early_answers(["build", "./..."]) is None


def test_go_is_asked_before_click_is_imported() -> None:
    """In a fresh interpreter: the entry point starts `go env` and `go list` with click not yet imported."""
    code = ("import sys, slimgo.entry as e\n"
            f"early = e.early_answers(['build', {str(HELLO)!r}])\n"
            "print(len(early._started), 'click' in sys.modules, 'slimgo.cli' in sys.modules)\n"
            "early.close()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["2", "False", "False"]
