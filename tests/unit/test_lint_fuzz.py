"""Property-based fuzzing of the Dockerfile parser, the rules and --fix (bounded to a few seconds).

Whatever the bytes, parsing either succeeds or raises DockerfileError with a line; linting never raises;
--fix output parses again and keeps every line it did not mean to change.
"""

from __future__ import annotations

import pytest

pytest.importorskip("hypothesis", reason="hypothesis (a test extra) is not installed")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimgo.dockerfile.fix import fix_text
from slimgo.dockerfile.lint import LintSettings, lint_text
from slimgo.dockerfile.parse import DockerfileError, parse

KEYWORDS = ["FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "USER", "WORKDIR", "CMD", "ENTRYPOINT", "EXPOSE",
            "VOLUME", "LABEL", "SHELL", "ONBUILD", "HEALTHCHECK", "from", "run", "RUNN", "#", "# slimgo:ignore=SG105",
            "# hadolint ignore=DL3019", "# escape=`", "# syntax=docker/dockerfile:1"]
WORDS = ["alpine:3.20", "golang:1.23", "scratch", "AS", "build", "--from=build", "--mount=type=cache,target=/x",
         "--platform=$BUILDPLATFORM", "apk", "add", "--no-cache", "apt-get", "install", "go", "build", "-o", "/app",
         "-ldflags", '"-s -w"', "CGO_ENABLED=0", "upx", "strip", "&&", ";", "|", "\\", "`", "<<EOF", "EOF", "[",
         "]", '"', "'", '["/app"]', '["a", 1]', ".", "./", "/root", "$TARGETARCH", "${X:-y}", "0", "\u00b2",
         "999999999999999999999", "chmod", "777", "curl", "https://e.com/t.tgz", "date", "shuf", "su-exec", "\t"]
LINE = st.builds(lambda k, ws, end: " ".join([k, *ws]) + end, st.sampled_from(KEYWORDS),
                 st.lists(st.sampled_from(WORDS), max_size=8), st.sampled_from(["\n", "\r\n", " \\\n", "\n\n"]))
DOCKERFILES = st.builds("".join, st.lists(LINE, min_size=1, max_size=25))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(DOCKERFILES)
def test_structured_dockerfiles_never_crash(text: str) -> None:
    _check(text)


@FAST
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _check(text)


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    _check(data.decode("utf-8", "surrogateescape"))


def _check(text: str) -> None:
    try:
        df = parse(text, "F")
    except DockerfileError as exc:
        assert exc.message.startswith("F") and exc.line >= 0
        findings = lint_text(text, "F", None, LintSettings())
        assert [f.rule for f in findings] == ["SG000"]
        return
    findings = lint_text(text, "F", None, LintSettings())
    assert all(f.line >= 1 and f.end_line >= f.line for f in findings)
    assert {f.line for f in findings} <= {i.line for i in df.instructions} | {s.line for s in df.stages}
    fixed, fixes = fix_text(text, "F", None)
    parse(fixed, "F")  # a fix never produces a file BuildKit's grammar refuses
    for f in fixes:
        assert 1 <= f.line <= len(text.splitlines()) + 1
