"""The `slimgo` command: the verbs of `commands/` under one click group, and the process entry point."""

from __future__ import annotations

import signal
import sys

import click

from . import __version__
from .commands.analyze import analyze
from .commands.base import base
from .commands.build import build
from .commands.compare import compare
from .commands.dockerfile import dockerfile
from .commands.edge import run_command
from .commands.inspect import inspect_cmd
from .commands.lint import lint


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             invoke_without_command=True)
@click.version_option(__version__, "--version", "-V", prog_name="slimgo")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """slimgo: the smallest Go container images that still work, with measurements to prove it."""
    if ctx.invoked_subcommand is None:  # bare `slimgo`: the help, like git, not a usage error
        click.echo(ctx.get_help())


for _command in (build, compare, base, analyze, dockerfile, lint, inspect_cmd):
    cli.add_command(_command)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    # SIGTERM (CI cancellation, `kill`) unwinds like Ctrl-C, so temp outputs are removed on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    return run_command(cli, argv)


if __name__ == "__main__":
    sys.exit(main())
