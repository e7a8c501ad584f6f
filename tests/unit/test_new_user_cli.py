"""Issue 11, points at the CLI edge checked in process: bare `slimgo`, and one JSON document on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimgo.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_bare_slimgo_prints_help_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:  # point 17
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    assert "Usage: slimgo" in out and "Commands:" in out and "analyze" in out and "error" not in out


@pytest.mark.parametrize("args,code,needle", [
    (["analyze", "{missing}", "--json"], 2, "no such file"),
    (["analyze", "--diff", "{missing}", "--json"], 2, "exactly two binaries"),
    (["analyze", "{missing}", "--json", "--top", "0"], 2, "--top"),
    (["compare", "{missing}", "--ready", "(", "--json"], 2, "not a valid regular expression"),
])
def test_json_failure_is_one_document_with_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     args: list[str], code: int, needle: str) -> None:  # 13
    argv = [a.replace("{missing}", str(tmp_path / "missing")) for a in args]
    got, out, err = run(capsys, *argv)
    assert got == code
    doc = json.loads(out)  # exactly one document: json.loads refuses trailing data
    assert doc["schema_version"] == 1 and doc["error"]["code"] == code
    assert needle in doc["error"]["message"] and doc["error"]["message"] in err
    assert err.count("slimgo: error:") == 1


def test_success_prints_no_error_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "analyze", "/bin/ls", "--json")
    assert code == 0 and "error" not in json.loads(out)


def _commands() -> list[tuple[str, object]]:
    import click

    from slimgo.cli import cli

    out: list[tuple[str, object]] = []
    for name, cmd in cli.commands.items():
        if isinstance(cmd, click.Group):
            out += [(f"{name} {sub}", c) for sub, c in cmd.commands.items()]
        else:
            out.append((name, cmd))
    return out


def test_every_option_is_documented() -> None:  # rough edges: options without help text
    import click

    missing = [f"{name} {'/'.join(p.opts)}" for name, cmd in _commands() for p in cmd.params  # type: ignore[attr-defined]
               if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()]
    assert missing == []


def test_one_flag_vocabulary(capsys: pytest.CaptureFixture[str]) -> None:  # rough edges: -t, -o, --threshold
    import click

    from slimgo.cli import cli

    def opts(path: list[str]) -> dict[str, click.Option]:
        cmd: click.Command = cli
        for part in path:
            cmd = cmd.commands[part]  # type: ignore[attr-defined]
        return {o: p for p in cmd.params if isinstance(p, click.Option) for o in p.opts}

    for path in (["build"], ["base", "push"]):
        assert "-t" in opts(path) and "-o" in opts(path), path
    assert "-o" in opts(["dockerfile"])
    for path in (["build"], ["base", "push"], ["analyze"], ["compare"], ["lint"]):
        assert "--json" in opts(path) and "--format" in opts(path), path
    threshold = opts(["lint"])["--threshold"]
    assert isinstance(threshold.type, click.Choice) and "warning" in threshold.type.choices
    code, out, _ = run(capsys, "build", "--help")
    assert code == 0 and out.count("[default:") >= 8


def test_no_mb_or_kb_in_human_output() -> None:  # rough edges: one unit system (IEC)
    import re

    src = Path(__file__).resolve().parents[2] / "src" / "slimgo"
    offenders = []
    for f in src.rglob("*.py"):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if re.search(r"""f["'].*\d?\s?(MB|KB|kB)\b""", line) or re.search(r"""["'][^"']*\d\s?(MB|KB)\b""", line):
                offenders.append(f"{f.name}:{n}")
    assert offenders == []


@pytest.mark.parametrize("flags", [["--format", "json"], ["--format=json"], ["--json", "--format", "text"],
                                   ["--format", "json", "--json"]])
def test_format_json_is_json_everywhere(capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    code, out, _ = run(capsys, "analyze", "/bin/ls", *flags)
    assert code == 0 and json.loads(out)["go_binary"] is False
    code, out, _ = run(capsys, "analyze", "/nonexistent-binary", *flags)
    assert code == 2 and json.loads(out)["error"]["code"] == 2
