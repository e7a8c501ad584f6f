"""What every verb shares at the process boundary: terminal output, one JSON document, credentials, exit codes.

Nothing below the commands layer prints or exits. stdout carries results (one JSON document with --json);
progress, warnings and notes go to stderr.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import BadInput, SlimgoError

if TYPE_CHECKING:
    from rich.console import Console

    from ..registry.auth import CredentialSource
    from ..supplychain.sign import KeySigner

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 70, 130

Progress = Callable[[str], None]


def escape(text: str) -> str:
    """Untrusted text (file names, module paths, registry errors) as literal rich text: `[/x]` must neither
    crash the output nor style it (`[link=...]`). rich is imported lazily, like everywhere in this module."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


PIPED_WIDTH = 160
_CONTROL = {c: "?" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c != 0x09}


def piped_width(stream: Any, environ: Any) -> int | None:
    """Results piped to a file, `less` or a CI log: rich would assume 80 columns and cut the tables' numbers
    into `217…`. A terminal, or $COLUMNS, keeps rich's own choice (None)."""
    isatty = getattr(stream, "isatty", None)
    if "COLUMNS" in environ or (isatty is not None and isatty()):
        return None
    return PIPED_WIDTH


class Ui:
    """Per-invocation terminal state (no globals): a stdout console for results, a stderr one for the rest.

    rich (~50 ms to import) is loaded only when something styled is printed: on a terminal, or for a
    table. A build whose stderr is a CI log or a pipe writes its progress as plain lines, which is what rich
    would print there too, and starts Go that much sooner."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json_mode = json_mode

    @functools.cached_property
    def out(self) -> Console:
        from rich.console import Console

        # emoji=False: rich would turn ":b:" in a user's value (--user a:b:c, a path) into an emoji
        return Console(highlight=False, soft_wrap=True, emoji=False, width=piped_width(sys.stdout, os.environ))

    @functools.cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

    def _styled_stderr(self) -> bool:
        """Where rich would style stderr: a terminal, or a CI log that asks for colour (FORCE_COLOR)."""
        isatty = getattr(sys.stderr, "isatty", None)
        return bool((isatty is not None and isatty()) or os.environ.get("FORCE_COLOR")
                    or os.environ.get("TTY_COMPATIBLE") == "1")

    def _line(self, text: str) -> None:
        # Untrusted text (module paths, registry errors) must not steer a log viewer that renders escapes.
        sys.stderr.write(text.translate(_CONTROL) + "\n")
        sys.stderr.flush()

    @contextlib.contextmanager
    def progress(self, first: str) -> Iterator[Progress]:
        """A spinner on a terminal; plain lines on stderr otherwise (CI logs keep the steps)."""
        if not self._styled_stderr():
            self._line(first)
            yield self._line
        elif self.err.is_terminal:
            with self.err.status(escape(first)) as status:
                yield lambda msg: status.update(escape(msg))
        else:
            self.err.print(f"[dim]{escape(first)}[/]")
            yield lambda msg: self.err.print(f"[dim]{escape(msg)}[/]")

    def note(self, msg: str) -> None:
        if self._styled_stderr():
            self.err.print(f"[yellow]note:[/] {escape(msg)}")
        else:
            self._line(f"note: {msg}")

    def emit_json(self, doc: dict[str, Any]) -> None:
        emit_json(doc)


def emit_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def _format_chosen(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value == "json":
        ctx.meta["slimgo.json"] = True
        if "json_out" in ctx.params:
            ctx.params["json_out"] = True


def _json_chosen(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    return value or bool(ctx.meta.get("slimgo.json"))


def json_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--json`, and `--format text|json` meaning the same, so every command takes the flags lint takes.
    The command receives one `json_out` parameter whichever was given, in whatever order."""
    command = click.option("--format", "output_format", type=click.Choice(["text", "json"]), expose_value=False,
                           callback=_format_chosen, help="Output format; json is the same as --json. [default: text]")(command)
    return click.option("--json", "json_out", is_flag=True, callback=_json_chosen,
                        help="Print one JSON document on stdout.")(command)


def split_list(value: str | None) -> list[str] | None:
    """A comma-separated option; None when the option was not given (so config files can fill it)."""
    return [v for v in value.split(",") if v] if value is not None else None


def credentials(username: str | None, password_stdin: bool) -> CredentialSource | None:
    """None: the default source (the Docker config, the environment), made when a registry is first asked;
    importing the registry client is ~3 ms of every build that never talks to one."""
    if password_stdin and not username:
        raise click.UsageError("--password-stdin needs --username")
    if username and not password_stdin:
        raise click.UsageError("--username needs --password-stdin (passwords are never taken as arguments)")
    if not username:
        return None
    from ..registry.auth import Credentials, CredentialSource

    return CredentialSource(explicit=Credentials(username, read_stdin_secret(sys.stdin)))


MAX_STDIN_SECRET = 64 << 10  # registry tokens run to a few KiB


def read_stdin_secret(stream: Any) -> str:
    """--password-stdin's first line, bounded: `< /dev/zero` (no newline, ever) must not fill the memory."""
    line = stream.readline(MAX_STDIN_SECRET + 1)
    if len(line) > MAX_STDIN_SECRET:
        raise BadInput(f"--password-stdin: more than {MAX_STDIN_SECRET >> 10} KiB before the first newline; "
                       "not a password")
    return str(line).rstrip("\n")


def key_signer(path: Path) -> KeySigner:
    """--sign-key: the password is $COSIGN_PASSWORD (as cosign reads it), else one line typed on the terminal.
    A pipe is refused rather than read: stdin may carry --password-stdin's registry password."""
    from ..supplychain.cosignkey import load_private_key, read_key_file
    from ..supplychain.sign import KeySigner

    data = read_key_file(path)  # a public key or a stray file is named before any password is asked for
    password = os.environ.get("COSIGN_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise BadInput(f"--sign-key {path}: no password: set $COSIGN_PASSWORD (stdin is not a terminal)")
        password = click.prompt(f"Password for {path}", hide_input=True, default="", show_default=False, err=True)
    return KeySigner(load_private_key(path, password, data))


def report_error(exc: SlimgoError) -> int:
    from rich.console import Console

    err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    err.print(f"[bold red]slimgo: error:[/] {escape(exc.message)}", markup=True)
    if exc.detail:
        sys.stderr.write(exc.detail.rstrip() + "\n")
    return exc.exit_code


def wants_json(argv: list[str]) -> bool:
    return "--json" in argv or "--format=json" in argv or any(
        a == "--format" and b == "json" for a, b in zip(argv, argv[1:], strict=False))


def run_command(group: click.Group, argv: list[str] | None, obj: object = None) -> int:
    """Run the click group and map every way out of it to a documented exit code and one stderr line.

    Under --json a command that did not complete still prints one JSON document on stdout,
    `{schema_version, error: {code, message}}`. One that returned has printed its own (compare and
    lint report their exit 1 that way). `obj`: click's context object, what the entry point hands the command."""
    args = list(sys.argv[1:] if argv is None else argv)
    code, message = _run(group, args, obj)
    if message is not None and wants_json(args):
        emit_json({"schema_version": 1, "error": {"code": code, "message": message}})
    return code


def _fail(code: int, message: str) -> tuple[int, str]:
    sys.stderr.write(f"slimgo: error: {message}\n")
    return code, message


def _run(group: click.Group, argv: list[str], obj: object = None) -> tuple[int, str | None]:
    """The exit code, and the one-line error when the command did not complete (None when it did)."""
    try:
        rv = group.main(args=argv, prog_name="slimgo", standalone_mode=False, obj=obj)
        return (rv if isinstance(rv, int) else EXIT_OK), None
    except click.exceptions.Exit as exc:
        return exc.exit_code, None
    except click.ClickException as exc:  # UsageError included
        return _fail(EXIT_BAD_INPUT, exc.format_message())
    except (click.Abort, KeyboardInterrupt):
        sys.stderr.write("slimgo: interrupted\n")
        return EXIT_INTERRUPTED, "interrupted"
    except SlimgoError as exc:
        return report_error(exc), exc.message
    except BrokenPipeError:
        return EXIT_OK, None
    except OSError as exc:  # disk full, permission denied on a path we did not pre-check
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(EXIT_BAD_INPUT, f"{where}{exc.strerror or exc}")
    except Exception as exc:  # a bug: one line, the traceback on request
        if os.environ.get("SLIMGO_DEBUG"):
            raise
        message = f"{type(exc).__name__}: {exc}"
        sys.stderr.write(f"slimgo: internal error: {message} (set SLIMGO_DEBUG=1 for the traceback)\n")
        return EXIT_INTERNAL, f"internal error: {message}"
