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
