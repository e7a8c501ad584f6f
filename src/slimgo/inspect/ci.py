"""`--ci`: dive's three thresholds plus slimgo's own rules, each named when it fails.

Thresholds come from flags, else `.slimgo.yaml`'s `inspect:` section, else a dive `.dive-ci` file
(`rules: {lowestEfficiency, highestWastedBytes, highestUserWastedPercent}`), else dive's defaults
(0.9, disabled, 0.1). A value of `disabled` (or `false`) turns a rule off. Comparisons are dive's:
efficiency below the lowest fails; wasted bytes or the user-wasted ratio above the highest fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadInput

DIVE_DEFAULTS = {"lowestEfficiency": "0.9", "highestWastedBytes": "disabled", "highestUserWastedPercent": "0.1"}
SLIMGO_RULES = ("no_shell", "no_root", "no_secrets", "will_start", "not_debug")
SNAKE = {"lowest_efficiency": "lowestEfficiency", "highest_wasted_bytes": "highestWastedBytes",
         "highest_user_wasted_percent": "highestUserWastedPercent"}
UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
         "t": 1000**4, "tb": 1000**4, "kib": 1024, "ki": 1024, "mib": 1024**2, "mi": 1024**2, "gib": 1024**3,
         "gi": 1024**3, "tib": 1024**4, "ti": 1024**4}
BYTES = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_bytes(text: str, where: str) -> int:
    """dive's byte syntax (go-humanize): SI `20M` is 20,000,000 and IEC `20MiB` is 20,971,520."""
    m = BYTES.match(text)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in UNITS:
        raise BadInput(f"{where}: {text!r} is not a byte count (e.g. 20MiB, 20M, 1000)")
    return int(float(m.group(1)) * UNITS[unit])


def _ratio(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"{where}: {text!r} is not a number between 0 and 1") from None
    if not 0 <= value <= 1:
        raise BadInput(f"{where}: {text!r} is outside 0-1")
    return value


def _off(value: str) -> bool:
    return value.strip().lower() in ("disabled", "false", "off", "none", "")


@dataclass
class Thresholds:
    raw: dict[str, str] = field(default_factory=lambda: dict(DIVE_DEFAULTS))
    source: dict[str, str] = field(default_factory=lambda: {k: "dive default" for k in DIVE_DEFAULTS})
    rules: dict[str, bool] = field(default_factory=lambda: {r: True for r in SLIMGO_RULES})

    def validate(self) -> None:
        for key, value in self.raw.items():
            where = f"{key} (from {self.source[key]})"
            if _off(value):
                continue
            if key == "highestWastedBytes":
                parse_bytes(value, where)
            else:
                _ratio(value, where)


def _yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: unreadable ({type(exc).__name__})") from None


def _apply(t: Thresholds, doc: Any, where: str) -> None:
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise BadInput(f"{where}: expected a mapping")
    for key, value in doc.items():
        name = SNAKE.get(str(key), str(key))
        if name in DIVE_DEFAULTS:
            t.raw[name] = "disabled" if value is False else str(value)
            t.source[name] = where
        elif name == "rules" and isinstance(value, dict):
            _apply(t, value, where)
        elif name in SLIMGO_RULES:
            if not isinstance(value, bool):
                raise BadInput(f"{where}: {name} must be true or false")
            t.rules[name] = value
        else:
            known = ", ".join([*DIVE_DEFAULTS, *SLIMGO_RULES])
            raise BadInput(f"{where}: unknown key {key!r} (known: {known})")


def load(cwd: Path, flags: dict[str, str | None], dive_ci: Path | None) -> Thresholds:
    """Thresholds, lowest precedence first: dive defaults, .dive-ci, .slimgo.yaml inspect:, flags."""
    t = Thresholds()
    dive_file = dive_ci if dive_ci is not None else cwd / ".dive-ci"
    if dive_ci is not None and not dive_ci.is_file():
        raise BadInput(f"{dive_ci}: no such file")
    if dive_file.is_file():
        doc = _yaml(dive_file)
        rules = doc.get("rules") if isinstance(doc, dict) else None
        _apply(t, {k: v for k, v in (rules or {}).items() if k in DIVE_DEFAULTS}, str(dive_file))
    slim = cwd / ".slimgo.yaml"
    if slim.is_file():
        from ..config import load as load_config

        _apply(t, load_config(cwd).inspect, f"{slim} inspect:")
    for key, value in flags.items():
        if value is not None:
            t.raw[key] = value
            t.source[key] = "--" + re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), key)
    t.validate()
    return t


@dataclass
class RuleResult:
    name: str
    passed: bool | None  # None: disabled
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.name, "status": "skip" if self.passed is None else ("pass" if self.passed else "fail"),
                "detail": self.detail}


def evaluate(t: Thresholds, doc: dict[str, Any]) -> list[RuleResult]:
    """Rules over an inspection's JSON document, so that a saved report can be judged the same way."""
    w = doc["waste"]["dive"]
    out: list[RuleResult] = []
    raw = t.raw
    if _off(raw["lowestEfficiency"]):
        out.append(RuleResult("lowestEfficiency", None, "disabled"))
    else:
        lo = float(raw["lowestEfficiency"])
        out.append(RuleResult("lowestEfficiency", w["efficiency"] >= lo,
                              f"efficiency {w['efficiency']:.4f} (threshold {lo})"))
    if _off(raw["highestWastedBytes"]):
        out.append(RuleResult("highestWastedBytes", None, "disabled"))
    else:
        hi = parse_bytes(raw["highestWastedBytes"], "highestWastedBytes")
        out.append(RuleResult("highestWastedBytes", w["wasted_bytes"] <= hi,
                              f"wasted {w['wasted_bytes']} bytes (threshold {hi})"))
    if _off(raw["highestUserWastedPercent"]):
        out.append(RuleResult("highestUserWastedPercent", None, "disabled"))
    else:
        hp = float(raw["highestUserWastedPercent"])
        out.append(RuleResult("highestUserWastedPercent", w["user_wasted_percent"] <= hp,
                              f"user wasted {w['user_wasted_percent']:.4f} (threshold {hp})"))
    s = doc["surface"]
    shells = s["shells"]
    checks = {
        "no_shell": (not shells, f"shells: {', '.join(shells[:5])}" if shells else "no shell"),
        "no_root": (not s["user"]["root"], "runs as root" if s["user"]["root"] else f"runs as {s['user']['name']}"),
        "no_secrets": (not s["secrets"], f"{len(s['secrets'])} secret(s): " + ", ".join(
            f"{x['name']} ({x['location']})" for x in s["secrets"][:5]) if s["secrets"] else "none found"),
        "will_start": (doc["start"]["will_start"], "; ".join(doc["start"]["problems"]) or "starts"),
        "not_debug": (not doc["debug_image"], "debug image (label dev.slimgo.debug=true)" if doc["debug_image"]
                      else "not a debug image"),
    }
    for name in SLIMGO_RULES:
        ok, detail = checks[name]
        out.append(RuleResult(name, ok if t.rules[name] else None, detail if t.rules[name] else "disabled"))
    return out
