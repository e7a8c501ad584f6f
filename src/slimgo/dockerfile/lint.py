"""Run the rules over Dockerfiles: pragmas, `.slimgo.yaml` `lint:` settings, thresholds, output formats."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import load as load_config
from ..errors import BadInput
from .parse import Dockerfile, Instruction, parse
from .rules import cache, gobuild, security, size
from .rules.base import SEVERITIES, Context, Finding, Rule

SCHEMA_VERSION = 1
ALL_RULES: dict[str, Rule] = {r.id: r for r in [*size.RULES, *cache.RULES, *security.RULES, *gobuild.RULES]}


@dataclass
class LintSettings:
    ignore: set[str] = field(default_factory=set)
    severity: dict[str, str] = field(default_factory=dict)
    threshold: str = "warning"

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


def lint_dockerfile(df: Dockerfile, directory: Path | None, settings: LintSettings) -> list[Finding]:
    ctx = Context(df, directory)
    findings: dict[tuple[str, int], Finding] = {}
    for rule in ALL_RULES.values():
        if rule.id in settings.ignore or rule.id in df.file_ignores:
            continue
        severity = settings.severity.get(rule.id, rule.severity)
        for where, message, hint in rule.check(ctx):
            inst = where if isinstance(where, Instruction) else None
            line = inst.line if inst else int(where)  # type: ignore[arg-type]
            if inst is not None and rule.id in inst.ignore:
                continue
            findings.setdefault((rule.id, line), Finding(rule.id, severity, line, message, hint, df.path))
    return sorted(findings.values(), key=lambda f: (f.line, f.rule))


def lint_file(path: Path, settings: LintSettings | None = None) -> list[Finding]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read ({exc})") from None
    return lint_dockerfile(parse(text, str(path)), path.parent, settings or settings_for(path))


def fails(findings: list[Finding], threshold: str) -> bool:
    if threshold == "none":
        return False
    limit = SEVERITIES.index(threshold)
    return any(SEVERITIES.index(f.severity) <= limit for f in findings)


# ---- output formats --------------------------------------------------------------------------------

def to_json(findings: list[Finding]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "findings": [f.to_json() for f in findings]}


SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "style": "note"}


def to_sarif(findings: list[Finding]) -> dict[str, Any]:
    used = sorted({f.rule for f in findings})
    rules = [{"id": rid, "name": ALL_RULES[rid].title.title().replace(" ", ""),
              "shortDescription": {"text": ALL_RULES[rid].title},
              "fullDescription": {"text": ALL_RULES[rid].explain},
              "defaultConfiguration": {"level": SARIF_LEVEL[ALL_RULES[rid].severity]},
              "help": {"text": ALL_RULES[rid].explain}} for rid in used]
    results = [{
        "ruleId": f.rule, "ruleIndex": used.index(f.rule), "level": SARIF_LEVEL[f.severity],
        "message": {"text": f"{f.message} (fix: {f.hint})"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": Path(f.file).as_posix()},
                                            "region": {"startLine": max(1, f.line)}}}],
    } for f in findings]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "slimgo", "version": __version__, "rules": rules}},
                  "results": results}],
    }


def to_github(findings: list[Finding]) -> str:
    level = {"error": "error", "warning": "warning", "info": "notice", "style": "notice"}
    out = []
    for f in findings:
        msg = f"{f.message} (fix: {f.hint})".replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        out.append(f"::{level[f.severity]} file={f.file},line={f.line},title={f.rule}::{msg}")
    return "\n".join(out)


def render_json(findings: list[Finding], fmt: str) -> str:
    return json.dumps(to_sarif(findings) if fmt == "sarif" else to_json(findings), indent=2)
