"""Lint a corpus of varied Dockerfiles written for these tests: no crash, stable findings.

The expected findings live in expected.json beside the corpus; a change to them must be a deliberate
change to a rule, reviewed as such (regenerate with SLIMGO_UPDATE_CORPUS=1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from slimgo.dockerfile.lint import LintSettings, lint_dockerfile
from slimgo.dockerfile.parse import parse

CORPUS = Path(__file__).resolve().parent.parent / "data" / "dockerfiles"


def _lint_all() -> dict[str, list[list[object]]]:
    out = {}
    for path in sorted(CORPUS.glob("*.Dockerfile")):
        df = parse(path.read_text(encoding="utf-8"), path.name)
        out[path.name] = [[f.rule, f.line, f.severity] for f in lint_dockerfile(df, None, LintSettings())]
    return out


def test_corpus_is_big_and_varied() -> None:
    files = list(CORPUS.glob("*.Dockerfile"))
    assert len(files) >= 30
    texts = [f.read_text() for f in files]
    assert any("<<EOF" in t for t in texts) and any("# escape=`" in t for t in texts)
    assert any(t.startswith("ARG") and "FROM ${" in t for t in texts)
    assert sum(t.count("FROM ") >= 2 for t in texts) >= 10


def test_corpus_findings_are_stable() -> None:
    first, second = _lint_all(), _lint_all()
    assert first == second
    expected_path = CORPUS / "expected.json"
    if os.environ.get("SLIMGO_UPDATE_CORPUS") == "1":
        expected_path.write_text(json.dumps(first, indent=1, sort_keys=True) + "\n")
    assert first == json.loads(expected_path.read_text())
