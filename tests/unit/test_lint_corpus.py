"""Lint a corpus of varied Dockerfiles written for these tests: no crash, stable findings.

The expected findings live in expected.json beside the corpus. This test only reads it: a change to the
findings is a deliberate change to a rule, regenerated with `python scripts/lint_corpus.py expectations`
and reviewed as a diff.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.lintcorpus import corpus_findings

CORPUS = Path(__file__).resolve().parent.parent / "data" / "dockerfiles"


def test_corpus_is_big_and_varied() -> None:
    files = list(CORPUS.glob("*.Dockerfile"))
    assert len(files) >= 30
    texts = [f.read_text() for f in files]
    assert any("<<EOF" in t for t in texts) and any("# escape=`" in t for t in texts)
    assert any(t.startswith("ARG") and "FROM ${" in t for t in texts)
    assert sum(t.count("FROM ") >= 2 for t in texts) >= 10


def test_corpus_findings_are_stable() -> None:
    first, second = corpus_findings(CORPUS), corpus_findings(CORPUS)
    assert first == second
    assert first == json.loads((CORPUS / "expected.json").read_text())
