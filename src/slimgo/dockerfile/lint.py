"""Run the rules over Dockerfiles: pragmas, `.slimgo.yaml` `lint:` settings, thresholds, output formats.

A file that cannot be read or parsed becomes one SG000 finding at the line BuildKit would blame, so one bad
file among many never hides the others' results, in any output format.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import load as load_config
from ..errors import BadInput
from .parse import Dockerfile, DockerfileError, Instruction, parse
from .rules import cache, gobuild, security, size
from .rules.model import SEVERITIES, Context, Finding, Rule

SCHEMA_VERSION = 1
PARSE_ERROR = "SG000"
ALL_RULES: dict[str, Rule] = {r.id: r for r in [*size.RULES, *cache.RULES, *security.RULES, *gobuild.RULES]}


@dataclass
class LintSettings:
    ignore: set[str] = field(default_factory=set)
    severity: dict[str, str] = field(default_factory=dict)
    threshold: str = "warning"
    context: Path | None = None  # the build context, when it is not the Dockerfile's directory

    @classmethod
    def from_config(cls, doc: dict[str, Any], where: str) -> "LintSettings":
        s = cls()
        unknown = set(doc) - {"ignore", "severity", "threshold"}
        if unknown:
            raise BadInput(f"{where}: unknown lint key {sorted(unknown)[0]!r} (known: ignore, severity, threshold)")
        s.ignore = {str(x).upper() for x in doc.get("ignore") or []}
        for rid, sev in (doc.get("severity") or {}).items():
            if sev not in SEVERITIES:
                raise BadInput(f"{where}: lint.severity.{rid}: {sev!r} is not one of {', '.join(SEVERITIES)}")
            s.severity[str(rid).upper()] = sev
        if "threshold" in doc:
            s.threshold = check_threshold(str(doc["threshold"]))
        return s


def check_threshold(value: str) -> str:
    if value not in SEVERITIES and value != "none":
        raise BadInput(f"threshold {value!r} is not one of {', '.join(SEVERITIES)}, none")
    return value


def settings_for(path: Path) -> LintSettings:
    """The `lint:` section of the nearest .slimgo.yaml at or above the Dockerfile's directory."""
    for d in [path.resolve().parent, *path.resolve().parent.parents]:
        if (d / ".slimgo.yaml").is_file():
            cfg = load_config(d)
            return LintSettings.from_config(cfg.lint, str(cfg.path))
        if (d / ".git").exists():
            break
    return LintSettings()


def _anchors(where: Instruction | int | list[Instruction]) -> tuple[int, int, list[Instruction]]:
    """(line, end line, instructions whose pragmas may silence the finding)."""
    if isinstance(where, list):
        return where[0].line, where[0].end_line, where
    if isinstance(where, Instruction):
        return where.line, where.end_line, [where]
    return int(where), int(where), []


def lint_dockerfile(df: Dockerfile, directory: Path | None, settings: LintSettings) -> list[Finding]:
    ctx = Context(df, settings.context or directory, dockerfile_dir=directory)
    findings: dict[tuple[str, int], Finding] = {}
    for rule in ALL_RULES.values():
        if rule.id in settings.ignore or rule.id in df.file_ignores:
            continue
        for where, message, hint, *own in rule.check(ctx):
            severity = settings.severity.get(rule.id, own[0] if own else rule.severity)
            line, end, anchors = _anchors(where)
            if any(rule.id in a.ignore for a in anchors):
                continue
            findings.setdefault((rule.id, line), Finding(rule.id, severity, line, message, hint, df.path, end))
    return sorted(findings.values(), key=lambda f: (f.line, f.rule))


def parse_error_finding(exc: BadInput, path: str) -> Finding:
    line = exc.line if isinstance(exc, DockerfileError) else 0
    message = exc.message
    prefix = re.match(re.escape(path) + r"(?::\d+)?: ", message)
    if prefix:
        message = message[prefix.end():]
    return Finding(PARSE_ERROR, "error", line, message, "fix the syntax: BuildKit refuses this file too",
                   path, line)


def read_dockerfile(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 (a Latin-1 comment) survive a --fix round trip."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory, not a Dockerfile") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror})") from None
    return data.decode("utf-8", "surrogateescape")


def lint_text(text: str, name: str, directory: Path | None, settings: LintSettings) -> list[Finding]:
    try:
        df = parse(text, name)
    except DockerfileError as exc:
        return [parse_error_finding(exc, name)]
    return lint_dockerfile(df, directory, settings)


def lint_file(path: Path, settings: LintSettings | None = None) -> list[Finding]:
    try:
        text = read_dockerfile(path)
    except BadInput as exc:
        return [parse_error_finding(exc, str(path))]
    return lint_text(text, str(path), path.parent, settings or settings_for(path))


def fails(findings: list[Finding], threshold: str) -> bool:
    if threshold == "none":
        return False
    limit = SEVERITIES.index(threshold)
    return any(SEVERITIES.index(f.severity) <= limit for f in findings)


# ---- output formats --------------------------------------------------------------------------------

def to_json(findings: list[Finding], fixed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "findings": [f.to_json() for f in findings]}
    if fixed is not None:
        doc["fixed"] = fixed
    return doc


SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "style": "note"}
SRCROOT = "%SRCROOT%"


def rule_name(rule: Rule) -> str:
    """A readable PascalCase name for SARIF viewers, from the title's words (`COPY . .` has none)."""
    return "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", rule.title.lower()))


def _source_root(start: Path) -> Path:
    for d in [start, *start.parents]:
        if (d / ".git").exists():
            return d
    return start


def _artifact(file: str, root: Path) -> dict[str, str]:
    """A location GitHub code scanning can map: relative to the checkout, with uriBaseId."""
    if file == "-":
        return {"uri": "stdin"}
    p = Path(file).resolve()
    try:
        return {"uri": p.relative_to(root).as_posix(), "uriBaseId": SRCROOT}
    except ValueError:
        return {"uri": p.as_uri()}


def to_sarif(findings: list[Finding], root: Path | None = None) -> dict[str, Any]:
    root = (root or _source_root(Path.cwd())).resolve()
    used = sorted({f.rule for f in findings if f.rule in ALL_RULES})
    rules = [{"id": rid, "name": rule_name(ALL_RULES[rid]),
              "shortDescription": {"text": ALL_RULES[rid].title},
              "fullDescription": {"text": ALL_RULES[rid].explain},
              "defaultConfiguration": {"level": SARIF_LEVEL[ALL_RULES[rid].severity]},
              "help": {"text": ALL_RULES[rid].explain}} for rid in used]
    if any(f.rule == PARSE_ERROR for f in findings):
        rules.append({"id": PARSE_ERROR, "name": "DockerfileParseError",
                      "shortDescription": {"text": "Dockerfile does not parse"},
                      "fullDescription": {"text": "BuildKit's parser refuses this file, so nothing else was checked."},
                      "defaultConfiguration": {"level": "error"},
                      "help": {"text": "Fix the syntax error at the line given."}})
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [{
        "ruleId": f.rule, "ruleIndex": index[f.rule], "level": SARIF_LEVEL[f.severity],
        "message": {"text": f"{f.message} (fix: {f.hint})"},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(f.file, root),
                                            "region": {"startLine": max(1, f.line),
                                                       "endLine": max(1, f.line, f.end_line)}}}],
    } for f in findings]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "slimgo", "version": __version__, "rules": rules}},
                  "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri() + "/"}},
                  "results": results}],
    }


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(findings: list[Finding]) -> str:
    """GitHub workflow commands; property values escape `:` and `,` as the runner's parser requires."""
    level = {"error": "error", "warning": "warning", "info": "notice", "style": "notice"}
    out = []
    for f in findings:
        props = [f"file={_gh_property(f.file)}"]
        if f.line > 0:
            props += [f"line={f.line}", f"endLine={max(f.line, f.end_line)}"]
        props.append(f"title={_gh_property(f.rule)}")
        out.append(f"::{level[f.severity]} {','.join(props)}::{_gh_data(f'{f.message} (fix: {f.hint})')}")
    return "\n".join(out)


def render_json(findings: list[Finding], fmt: str, fixed: list[dict[str, Any]] | None = None) -> str:
    return json.dumps(to_sarif(findings) if fmt == "sarif" else to_json(findings, fixed), indent=2)
