"""Progress on a CI log or a pipe is plain lines written without rich (issue 12: importing rich cost ~50 ms
before `go build` could start); on a terminal, or with FORCE_COLOR, rich still styles it. Untrusted text
in a plain line cannot carry terminal escapes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from slimgo.commands.edge import Ui


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_piped_stderr_gets_plain_lines_and_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    ui = Ui()
    with ui.progress("building ./cmd/[api]") as progress:
        progress("compiling example.com/x\x1b[2J for linux/amd64")
    ui.note("kept the cached layer")
    assert err.getvalue() == ("building ./cmd/[api]\ncompiling example.com/x?[2J for linux/amd64\n"
                              "note: kept the cached layer\n")


def test_force_color_keeps_rich_styling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    Ui().note("styled")
    assert "\x1b[" in err.getvalue() and "styled" in err.getvalue()


def test_a_terminal_is_styled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert Ui()._styled_stderr()


def test_a_piped_build_json_run_does_not_import_rich() -> None:
    """In a fresh interpreter: the Ui of a `--json` build on a pipe reports progress without rich."""
    code = ("import sys\nfrom slimgo.commands.edge import Ui\nui = Ui(True)\n"
            "with ui.progress('building .') as p:\n    p('compiling')\nui.note('n')\n"
            "print('rich' in sys.modules, file=sys.__stdout__)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.stdout.strip() == "False" and proc.stderr == "building .\ncompiling\nnote: n\n"


def test_a_users_value_in_an_error_is_printed_as_given(tmp_path: Path) -> None:
    """rich renders ":b:" as an emoji: `--user a:b:c` was echoed back as 'a🅱c' in the error that names it."""
    from tests.support.cli import run

    r = run("build", str(tmp_path), "--env", "A:b:c")
    assert r.code == 2 and "'A:b:c'" in r.err and "\N{NEGATIVE SQUARED LATIN CAPITAL LETTER B}" not in r.err
    ui = Ui()
    err = io.StringIO()
    ui.err.file = err
    ui.err.print("failed: [bold]x[/] :b: :smile:")
    assert err.getvalue() == "failed: x :b: :smile:\n"
