"""slimgo lint at the CLI edge: formats, exit codes, thresholds, --explain, --fix, config, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimgo.dockerfile.fix import fix_text
from slimgo.dockerfile.lint import LintSettings, lint_dockerfile
from slimgo.dockerfile.parse import parse
from tests.support.cli import run as slimgo
from tests.support.cli import slimgo as slimgo_process

DATA = Path(__file__).resolve().parent.parent / "data"
BAD = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download\nRUN apk add git\nRUN go build -o /app .\nCMD /app --serve\n"
CLEAN = ("FROM golang:1.22 AS b\nRUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -trimpath "
         "-ldflags=\"-s -w\" -o /app .\nFROM scratch\nCOPY --from=b /app /app\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n")


def _file(tmp: Path, text: str, name: str = "Dockerfile") -> Path:
    (tmp / ".dockerignore").write_text(".git\n")
    p = tmp / name
    p.write_text(text)
    return p


def test_exit_codes_and_threshold(tmp_path: Path) -> None:
    bad = _file(tmp_path, BAD)
    assert slimgo("lint", bad).code == 1
    assert slimgo("lint", bad, "--threshold", "none").code == 0
    clean = _file(tmp_path, CLEAN, "Clean.Dockerfile")
    assert slimgo("lint", clean).code == 0
    info_only = _file(tmp_path, CLEAN.replace("--mount=type=cache,target=/root/.cache/go-build ", ""), "Info.Dockerfile")
    run = slimgo("lint", info_only, "--json")
    assert run.code == 0 and {f["severity"] for f in run.json()["findings"]} == {"info"}  # info never fails by default
    assert slimgo("lint", info_only, "--threshold", "info").code == 1


def test_json_is_one_document(tmp_path: Path) -> None:
    run = slimgo("lint", _file(tmp_path, BAD), "--json")
    doc = json.loads(run.out)
    assert doc["schema_version"] == 1
    assert {"rule", "severity", "line", "message", "hint", "file"} <= set(doc["findings"][0])


def test_sarif_validates(tmp_path: Path) -> None:
    run = slimgo("lint", _file(tmp_path, BAD), "--format", "sarif")
    assert run.code == 1
    doc = json.loads(run.out)
    schema = json.loads((DATA / "sarif-2.1.0-subset.schema.json").read_text())
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (a test extra) is not installed")
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    results = doc["runs"][0]["results"]
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_github_annotations(tmp_path: Path) -> None:
    run = slimgo("lint", _file(tmp_path, BAD), "--format", "github")
    lines = run.out.strip().splitlines()
    assert lines and all(line.startswith(("::error file=", "::warning file=", "::notice file=")) for line in lines)
    assert any(",line=6,endLine=6,title=SG102::" in line for line in lines)


def test_explain() -> None:
    run = slimgo("lint", "--explain", "sg108")
    assert run.code == 0 and "SG108" in run.out and "upx" in run.out.lower()
    assert slimgo("lint", "--explain", "SG999").code == 2


def test_malformed_and_missing(tmp_path: Path) -> None:
    bad = _file(tmp_path, "FROM alpine:3.20\nRUNN echo\n")
    run = slimgo("lint", bad)
    assert run.code == 2 and run.err.count("slimgo: error:") == 1 and ":2: unknown instruction RUNN" in run.err
    assert "Traceback" not in run.err
    run = slimgo("lint", tmp_path / "nope")
    assert run.code == 2 and "no such file" in run.err


def test_config_file_lint_section(tmp_path: Path) -> None:
    (tmp_path / ".slimgo.yaml").write_text("lint:\n  ignore: [SG102, SG103]\n  severity: {SG303: info}\n  threshold: error\n")
    run = slimgo("lint", _file(tmp_path, BAD), "--json")
    rules = {f["rule"]: f["severity"] for f in run.json()["findings"]}
    assert "SG102" not in rules and "SG103" not in rules and rules["SG303"] == "info"
    assert run.code == 0  # threshold error; the remaining findings are warnings or below
    (tmp_path / ".slimgo.yaml").write_text("lint:\n  threshold: loud\n")
    assert slimgo("lint", tmp_path / "Dockerfile").code == 2


def test_fix_rewrites_what_is_safe(tmp_path: Path) -> None:
    text = ("FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go mod download\nRUN CGO_ENABLED=0 go build -o /app .\n"
            "FROM alpine:3.20\nRUN apk add ca-certificates\nCOPY --from=build /app /app\nCMD /app --serve\n")
    fixed, applied = fix_text(text, "Dockerfile", None)
    assert len(applied) == 4, applied
    df = parse(fixed)
    assert "apk add --no-cache ca-certificates" in fixed
    assert 'CMD ["/app", "--serve"]' in fixed
    assert "USER 65532:65532" in fixed.split("FROM alpine")[1]
    lines = fixed.splitlines()
    assert lines.index("RUN go mod download") < lines.index("COPY . .")
    assert "COPY go.mod go.sum* ./" in lines
    remaining = {f.rule for f in lint_dockerfile(df, None, LintSettings())}
    assert not {"SG105", "SG201", "SG301", "SG303"} & remaining
    assert "SG103" in remaining  # not mechanically fixable: left as a finding
    path = _file(tmp_path, text)
    run = slimgo("lint", path, "--fix", "--json")
    assert path.read_text() == fixed
    assert {f["rule"] for f in run.json()["findings"]} == remaining


def test_one_malformed_file_does_not_hide_the_others(tmp_path: Path) -> None:
    a = _file(tmp_path, BAD, "a.Dockerfile")
    b = _file(tmp_path, "FROM alpine:3.20\nRUN echo ok\nRUNN echo\n", "b.Dockerfile")
    c = _file(tmp_path, CLEAN, "c.Dockerfile")
    for fmt in ("json", "sarif", "github", "text"):
        run = slimgo("lint", "--format", fmt, a, b, c)
        assert run.code == 2 and "Traceback" not in run.err, (fmt, run.err)
        assert run.err.count("slimgo: error:") == 1 and "b.Dockerfile:3: unknown instruction RUNN" in run.err
        if fmt == "json":
            found = run.json()["findings"]
            assert {f["file"] for f in found} == {str(a), str(b)}
            bad = [f for f in found if f["rule"] == "SG000"]
            assert bad == [{**bad[0], "file": str(b), "line": 3, "severity": "error"}]
        elif fmt == "sarif":
            results = json.loads(run.out)["runs"][0]["results"]
            assert any(r["ruleId"] == "SG000" and r["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
                       for r in results)
            assert any(r["ruleId"] == "SG102" for r in results)
        elif fmt == "github":
            assert any(line.startswith("::error file=") and ",line=3,endLine=3,title=SG000::" in line
                       for line in run.out.splitlines())
        else:
            assert "SG000" in run.out and "SG102" in run.out


def test_stdin(tmp_path: Path) -> None:
    run = slimgo("lint", "--json", "-", stdin=BAD)
    assert run.code == 1
    doc = json.loads(run.out)
    assert {f["file"] for f in doc["findings"]} == {"-"} and any(f["rule"] == "SG102" for f in doc["findings"])
    assert slimgo("lint", "--fix", "-").code == 2


def test_sarif_uri_is_relative_to_the_checkout(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "cmd" / "a,b:c"
    sub.mkdir(parents=True)
    path = _file(sub, BAD)
    run = slimgo_process("lint", "--format", "sarif", path, cwd=tmp_path)
    doc = json.loads(run.out)
    loc = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "cmd/a,b:c/Dockerfile", "uriBaseId": "%SRCROOT%"}
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    names = {r["id"]: r["name"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert names["SG201"] == "CopyBeforeGoModDownload" and all(n.isalnum() for n in names.values())
    run = slimgo_process("lint", "--format", "github", path, cwd=tmp_path)
    line = run.out.splitlines()[0]
    assert "file=" + str(path).replace(":", "%3A").replace(",", "%2C") + ",line=" in line
