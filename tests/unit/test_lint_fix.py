"""`lint --fix` never breaks an image: it rewrites only reported findings, only where provably safe, and
says exactly which line it changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimgo.dockerfile.fix import fix_text
from slimgo.dockerfile.lint import LintSettings
from tests.support.cli import run as slimgo

BUILD = "FROM golang:1.23 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\n"


def _lines_changed(before: str, after: str, line: int) -> bool:
    return before.splitlines()[line - 1] != after.splitlines()[line - 1]


def test_reported_line_is_the_changed_line() -> None:
    text = "FROM alpine:3.20\nRUN set -e; \\\n    apk update && \\\n    apk add curl\nCMD /app --serve\n"
    fixed, fixes = fix_text(text, "Dockerfile", None)
    assert {f.rule for f in fixes} == {"SG105", "SG303", "SG301"}
    for f in fixes:
        if f.rule == "SG301":
            continue
        assert _lines_changed(text, fixed, f.line), f
    apk = next(f for f in fixes if f.rule == "SG105")
    assert apk.line == 4 and fixed.splitlines()[3] == "    apk add --no-cache curl"


def test_suppressed_lines_are_not_rewritten(tmp_path: Path) -> None:
    text = "FROM alpine:3.20\n# slimgo:ignore=SG105 -- the index is needed later\nRUN apk add curl\n" \
           "# slimgo:ignore=SG303\nCMD /app --serve\n"
    fixed, fixes = fix_text(text, "Dockerfile", None)
    assert "apk add curl" in fixed and "CMD /app --serve" in fixed
    assert not {"SG105", "SG303"} & {f.rule for f in fixes}
    fixed, fixes = fix_text("FROM alpine:3.20\nRUN apk add curl\n", "Dockerfile", None, LintSettings(ignore={"SG105"}))
    assert "--no-cache" not in fixed and "SG105" not in {f.rule for f in fixes}


def test_user_never_lands_between_a_pragma_and_its_instruction() -> None:
    text = BUILD + "FROM scratch\nCOPY --from=build /app /app\n# slimgo:ignore=SG303 -- wrapper expects it\n" \
                   "ENTRYPOINT /app\n"
    fixed, fixes = fix_text(text, "Dockerfile", None)
    lines = fixed.splitlines()
    k = lines.index("# slimgo:ignore=SG303 -- wrapper expects it")
    assert lines[k + 1] == "ENTRYPOINT /app"
    assert lines[-1] == "USER 65532:65532" and any(f.rule == "SG301" for f in fixes)


def test_broken_exec_form_is_not_guessed() -> None:
    text = BUILD + "FROM scratch\nCOPY --from=build /app /app\nUSER 65532\nENTRYPOINT [\"/app\"\n"
    fixed, fixes = fix_text(text, "Dockerfile", None)
    assert 'ENTRYPOINT ["/app"' in fixed and '["[/app"]' not in fixed
    assert not any(f.rule == "SG303" for f in fixes)
    run_findings = {f.rule for f in __import__("slimgo.dockerfile.lint", fromlist=["x"]).lint_text(
        fixed, "Dockerfile", None, LintSettings())}
    assert "SG303" in run_findings  # still reported: not valid JSON, so Docker runs it through /bin/sh


@pytest.mark.parametrize("final", [
    "FROM alpine:3.20\nRUN adduser -D app\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n",  # own user
    "FROM alpine:3.20\nWORKDIR /root\nCOPY --from=build /app ./app\nENTRYPOINT [\"./app\"]\n",  # 0700
    "FROM alpine:3.20\nCOPY --from=build /app /root/app\nENTRYPOINT [\"/root/app\"]\n",
    "FROM alpine:3.20\nVOLUME /data\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n",
    "FROM alpine:3.20\nRUN apk add --no-cache su-exec\nCOPY --from=build /app /app\nENTRYPOINT [\"su-exec\", \"a\", \"/app\"]\n",
    "ARG BASE\nFROM $BASE\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n",  # unknown base
    "FROM alpine:3.20\nEXPOSE 80\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n",
])
def test_user_is_inserted_only_where_provably_safe(final: str) -> None:
    text = (final.split("\n", 1)[0] + "\n" + BUILD + final.split("\n", 1)[1]) if final.startswith("ARG") else BUILD + final
    fixed, fixes = fix_text(text, "Dockerfile", None)
    assert "USER 65532" not in fixed and not any(f.rule == "SG301" for f in fixes)


def test_user_after_the_last_run_of_the_final_stage() -> None:
    text = BUILD + "FROM alpine:3.20\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n" \
                   "RUN apk add --no-cache ca-certificates && chmod 0755 /app\n"
    fixed, fixes = fix_text(text, "Dockerfile", None)
    lines = fixed.splitlines()
    assert lines[-1] == "USER 65532:65532"  # after the RUN: the RUN still runs as root
    user = next(f for f in fixes if f.rule == "SG301")
    assert user.line == len(text.splitlines())


def test_exec_form_only_where_the_other_half_does_not_change() -> None:
    # a shell-form ENTRYPOINT ignores CMD: in exec form it would receive CMD's words
    text = BUILD + "FROM scratch\nCOPY --from=build /app /app\nUSER 1\nENTRYPOINT /app\nCMD [\"--port\", \"80\"]\n"
    fixed, _ = fix_text(text, "Dockerfile", None)
    assert "ENTRYPOINT /app\n" in fixed
    # a shell-form CMD hands `/bin/sh -c` to an ENTRYPOINT: converting changes its arguments
    text = BUILD + "FROM scratch\nCOPY --from=build /app /app\nUSER 1\nENTRYPOINT [\"/app\"]\nCMD --port 80\n"
    fixed, _ = fix_text(text, "Dockerfile", None)
    assert "CMD --port 80" in fixed
    # operators and expansions need the shell
    for cmd in ("CMD /app $PORT", "CMD /app > /log", "CMD /app && x", "CMD /app *.conf"):
        fixed, _ = fix_text(BUILD + f"FROM alpine:3.20\nUSER 1\n{cmd}\n", "Dockerfile", None)
        assert cmd in fixed


def test_crlf_bom_and_latin1_survive(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"\xef\xbb\xbfFROM alpine:3.20\r\n# caf\xe9\r\nRUN apk add curl\r\nUSER 1\r\n")
    (tmp_path / ".dockerignore").write_text(".git\n")
    run = slimgo("lint", "--fix", "--json", path)
    assert run.code == 0, run.err
    assert path.read_bytes() == b"\xef\xbb\xbfFROM alpine:3.20\r\n# caf\xe9\r\nRUN apk add --no-cache curl\r\nUSER 1\r\n"
    doc = json.loads(run.out)
    assert doc["fixed"] == [{"file": str(path), "rule": "SG105", "line": 3, "description": "apk add --no-cache"}]
