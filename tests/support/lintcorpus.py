"""Findings of slimgo lint over a folder of Dockerfiles, shared by the corpus test and the script that
regenerates its expectations (scripts/lint_corpus.py); the test never writes what it checks."""

from __future__ import annotations

from pathlib import Path

from slimgo.dockerfile.lint import LintSettings, lint_text

NOT_DOCKERFILES = {"SOURCES.tsv", "judgement.tsv", "hadolint.tsv", "README.md", "expected.json"}


def dockerfiles(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in NOT_DOCKERFILES)


def corpus_findings(folder: Path) -> dict[str, list[list[object]]]:
    """{file name: [[rule, line, severity], ...]} with no directory (no .dockerignore lookups)."""
    out = {}
    for path in dockerfiles(folder):
        if not path.name.endswith("Dockerfile"):
            continue
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        out[path.name] = [[f.rule, f.line, f.severity] for f in lint_text(text, path.name, None, LintSettings())]
    return out
