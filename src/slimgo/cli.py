"""The `slimgo` command: the verbs of `commands/` under one click group, and the process entry point."""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

import click

from . import __version__
from .commands.edge import run_command
from .errors import BadInput

if TYPE_CHECKING:
    from .gobuild.toolchain import EarlyAnswers

# Each verb's module is imported only when that verb runs (or help lists them all): `slimgo build` does not
# pay for analyze's, lint's or inspect's imports at every start.
VERBS = {
    "analyze": "analyze:analyze", "base": "base:base", "build": "build:build", "compare": "compare:compare",
    "dockerfile": "dockerfile:dockerfile", "inspect": "inspect:inspect_cmd", "lint": "lint:lint",
    "resolve": "resolve:resolve",
    "sbom": "sbom:sbom",
}


def _load(name: str) -> click.Command:
    module, attr = VERBS[name].split(":")
    command = getattr(importlib.import_module(f".commands.{module}", __package__), attr)
    assert isinstance(command, click.Command)
    return command


class _VerbGroup(click.Group):
    """A click group whose verbs are imported on first use; `commands` still maps every verb."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _load(cmd_name) if cmd_name in VERBS else None

    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        return {name: _load(name) for name in VERBS}

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        if value:
            raise TypeError("slimgo's verbs are listed in VERBS")


@click.group(cls=_VerbGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             invoke_without_command=True)
@click.version_option(__version__, "--version", "-V", prog_name="slimgo")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """slimgo: the smallest Go container images that still work, with measurements to prove it."""
    if ctx.invoked_subcommand is not None and ctx.invoked_subcommand not in ctx.help_option_names:
        _check_working_directory()
    if ctx.invoked_subcommand is None:  # bare `slimgo`: the help, like git, not a usage error
        click.echo(ctx.get_help())


def _check_working_directory() -> None:
    """Go, relative paths and the defaults (`.`, dist/) all need it; without this, Go says "getwd: no such file"."""
    try:
        os.getcwd()
    except FileNotFoundError:
        raise BadInput("the current directory no longer exists (it was deleted or moved): cd into one that "
                       "does and run again") from None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, early: EarlyAnswers | None = None) -> int:
    """`early`: Go's answers already asked for this command line (slimgo.entry); `build` takes them."""
    # SIGTERM (CI cancellation, `kill`) unwinds like Ctrl-C, so temp outputs are removed on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    return run_command(cli, argv, obj=early)
