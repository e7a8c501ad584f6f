"""What a rule is, what it finds, and the facts about a Dockerfile that several rules share."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..parse import Dockerfile, Instruction, Stage

SEVERITIES = ("error", "warning", "info", "style")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    line: int
    message: str
    hint: str
    file: str

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "severity": self.severity, "line": self.line, "message": self.message,
                "hint": self.hint, "file": self.file}


@dataclass
class Context:
    """A Dockerfile plus where it lives (for .dockerignore) and derived facts shared by rules."""

    df: Dockerfile
    directory: Path | None
    arg_defaults: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for inst in self.df.global_args:
            for word in inst.args.split():
                name, _, value = word.partition("=")
                self.arg_defaults[name] = value.strip('"')

    def resolved_base(self, stage: Stage) -> str:
        """The stage's FROM with global ARG defaults substituted."""
        def sub(m: re.Match[str]) -> str:
            return self.arg_defaults.get(m.group(1) or m.group(2), m.group(0))
        return re.sub(r"\$\{(\w+)[^}]*\}|\$(\w+)", sub, stage.base)

    def root_image(self, stage: Stage) -> str:
        """Follow FROM <stage> chains to the external image."""
        seen = set()
        current = stage
        while True:
            parent = self.df.stage_by_name(current.base)
            if parent is None or parent.index >= current.index or parent.index in seen:
                return self.resolved_base(current)
            seen.add(parent.index)
            current = parent

    def stage_chain(self, stage: Stage) -> list[Stage]:
        chain = [stage]
        while True:
            parent = self.df.stage_by_name(chain[-1].base)
            if parent is None or parent.index >= chain[-1].index or parent in chain:
                return chain
            chain.append(parent)

    def stage_env(self, stage: Stage) -> dict[str, str]:
        env: dict[str, str] = {}
        for s in reversed(self.stage_chain(stage)):
            for inst in s.instructions:
                if inst.keyword in ("ENV", "ARG"):
                    env.update(parse_assignments(inst.args))
        return env


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    explain: str
    check: Callable[[Context], Iterator[tuple[Instruction | int, str, str]]]  # (where, message, hint)
    fixable: bool = False


def parse_assignments(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        words = text.split()
    if len(words) == 2 and "=" not in words[0]:  # legacy `ENV KEY value`
        return {words[0]: words[1]}
    for w in words:
        k, sep, v = w.partition("=")
        out[k] = v if sep else ""
    return out


GO_BUILD = re.compile(r"\bgo\s+(?:build|install)\b")
GO_MOD_DOWNLOAD = re.compile(r"\bgo\s+mod\s+download\b")


def image_name(ref: str) -> tuple[str, str]:
    """(repository without registry, tag) of an image reference; digest refs get tag '@'."""
    ref = ref.strip()
    if "@" in ref:
        return ref.split("@", 1)[0].rsplit("/", 1)[-1], "@"
    last = ref.rsplit("/", 1)[-1]
    name, _, tag = last.partition(":")
    path = ref.rsplit(":", 1)[0] if ":" in last else ref
    return path, tag


def kind_of_image(ref: str) -> str:
    """toolchain | distro | minimal | static (scratch, distroless, chainguard static, slimgo) | unknown."""
    r = ref.lower()
    if r == "scratch" or "distroless" in r or "chainguard/static" in r or "slimgo/static" in r or \
            r.startswith("slimgo-bench/static") or "/static:" in r and "slimgo" in r:
        return "static"
    base = r.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    if base in ("golang", "go") or "golang" in base:
        return "toolchain"
    tag = r.rsplit(":", 1)[-1] if ":" in r.rsplit("/", 1)[-1] else ""
    if base in ("alpine", "busybox") or "slim" in tag or "minimal" in base:
        return "minimal"
    if base in ("ubuntu", "debian", "centos", "fedora", "rockylinux", "almalinux", "amazonlinux", "opensuse",
                "archlinux", "oraclelinux", "buildpack-deps"):
        return "distro"
    return "unknown"


def runs(stage: Stage) -> Iterator[Instruction]:
    return (i for i in stage.instructions if i.keyword == "RUN")


def go_builds(stage: Stage) -> list[Instruction]:
    """The RUN instructions of a stage that compile Go (go build / go install)."""
    return [i for i in runs(stage) if GO_BUILD.search(i.script())]
