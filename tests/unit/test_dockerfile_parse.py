from __future__ import annotations

import pytest

from slimgo.dockerfile.parse import DockerfileError, parse


def test_continuations_comments_and_flags() -> None:
    df = parse("ARG GO=1.22\nFROM golang:${GO} AS build\n# comment\nRUN --mount=type=cache,target=/a \\\n"
               "    --mount=type=cache,target=/b \\\n  # inner comment dropped\n    go build ./...\n")
    assert [i.keyword for i in df.instructions] == ["ARG", "FROM", "RUN"]
    run = df.instructions[2]
    assert run.line == 4 and run.end_line == 7
    assert run.flags["mount"] == "type=cache,target=/a;type=cache,target=/b"
    assert run.args == "go build ./..."
    assert df.global_args[0].args == "GO=1.22" and df.stages[0].name == "build"


def test_escape_directive_backtick() -> None:
    df = parse("# escape=`\nFROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nRUN dir c:\\ `\n    && echo done\n")
    assert df.escape == "`"
    assert df.instructions[1].args == "dir c:\\     && echo done"  # BuildKit concatenates continued lines


def test_directives_only_at_the_top() -> None:
    df = parse("# syntax=docker/dockerfile:1\n# check=skip=all\nFROM scratch\n# escape=`\n")
    assert df.directives == {"syntax": "docker/dockerfile:1", "check": "skip=all"} and df.escape == "\\"


def test_heredocs() -> None:
    text = ("FROM alpine:3.20\nRUN <<EOF\nset -e\napk add --no-cache git\nEOF\n"
            "COPY <<-'CONF' /etc/app.conf\n\tkey=value\n\tCONF\nRUN echo done\n")
    df = parse(text)
    run, copy, last = df.instructions[1:]
    assert run.heredocs[0].name == "EOF" and "apk add --no-cache git" in run.script()
    assert copy.heredocs[0].body == "key=value" and copy.heredocs[0].strip_tabs
    assert last.line == 9


def test_json_and_shell_forms() -> None:
    df = parse('FROM scratch\nENTRYPOINT ["/app", "-v"]\nCMD [not json]\nCMD ["/app"\n')
    assert df.instructions[1].json_args == ["/app", "-v"]
    assert df.instructions[2].json_args is None and df.instructions[3].json_args is None
    with pytest.raises(DockerfileError, match="arrays must be comprised of strings only"):
        parse('FROM scratch\nCMD ["a", 1]\n')  # valid JSON of the wrong kind: BuildKit refuses it


def test_stages_and_from_references() -> None:
    df = parse("FROM golang:1.22 AS build\nRUN true\nFROM build AS test\nFROM --platform=linux/arm64 scratch\n"
               "COPY --from=build /a /a\n")
    assert [s.name for s in df.stages] == ["build", "test", None]
    assert df.stages[2].platform == "linux/arm64"
    assert df.stage_by_name("BUILD") is df.stages[0] and df.stage_by_name("0") is df.stages[0]
    assert df.instructions[-1].flags["from"] == "build"


@pytest.mark.parametrize("text,needle", [
    ("RUN echo\n", "before the first FROM"),
    ("FROM alpine\nFROBNICATE x\n", ":2: unknown instruction FROBNICATE"),
    ("FROM\n", "FROM needs an image"),
    ("FROM alpine\nRUN <<EOF\necho\n", "heredoc <<EOF is never closed"),
    ("# escape=x\nFROM alpine\n", "escape directive"),
    ("", "no FROM"),
    ("FROM a b c d\n", "FROM takes IMAGE"),
])
def test_malformed(text: str, needle: str) -> None:
    with pytest.raises(DockerfileError, match=needle):
        parse(text)
