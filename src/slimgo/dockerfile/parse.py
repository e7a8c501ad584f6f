"""A Dockerfile parser that keeps what a linter needs: lines, flags, forms, heredocs, stages.

Covers parser directives (`# syntax=`, `# escape=`, `# check=`), line continuations with either escape
character (comment lines inside a continuation are dropped, as BuildKit does), heredocs (`<<EOF`,
`<<-EOF`, quoted delimiters, several per instruction), JSON and shell forms (an invalid JSON array is shell
form, as in Docker), leading `--flag[=value]` options, `ARG` before the first `FROM`, named stages and
`--from` references. Malformed input raises DockerfileError naming the line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..errors import BadInput

INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER",
    "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}
HEREDOC_INSTRUCTIONS = {"RUN", "COPY", "ADD"}
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*(?:\"([^\"]+)\"|'([^']+)'|([A-Za-z_][A-Za-z0-9_]*))")
_PRAGMA = re.compile(r"#\s*slimgo:(ignore|ignore-file)\s*=\s*([A-Za-z0-9_,\s]+)")


class DockerfileError(BadInput):
    pass


@dataclass
class Heredoc:
    name: str
    body: str
    strip_tabs: bool


@dataclass
class Instruction:
    keyword: str
    args: str  # the text after the keyword and flags, continuations joined
    line: int  # 1-based line of the keyword
    end_line: int
    raw: str  # the source text, continuations and heredoc bodies included
    flags: dict[str, str] = field(default_factory=dict)
    json_args: list[str] | None = None  # set when the arguments are a valid JSON array of strings
    heredocs: list[Heredoc] = field(default_factory=list)
    ignore: set[str] = field(default_factory=set)  # rule IDs from a `# slimgo:ignore=` just above
    stage: int = -1  # index of the stage; -1 for ARGs before the first FROM

    @property
    def is_json(self) -> bool:
        return self.json_args is not None

    def words(self) -> list[str]:
        return self.json_args if self.json_args is not None else self.args.split()

    def script(self) -> str:
        """What a RUN executes: the shell text, or the heredoc bodies when the command is a heredoc."""
        parts = [self.args] + [h.body for h in self.heredocs]
        return "\n".join(parts)


@dataclass
class Stage:
    index: int
    base: str  # image reference as written (may contain $ARGs)
    name: str | None
    platform: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def find(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    path: str
    directives: dict[str, str]
    escape: str
    instructions: list[Instruction]
    stages: list[Stage]
    global_args: list[Instruction]
    file_ignores: set[str]
    lines: list[str]

    def stage_by_name(self, name: str) -> Stage | None:
        for s in self.stages:
            if s.name and s.name.lower() == name.lower():
                return s
        if name.isdigit() and int(name) < len(self.stages):
            return self.stages[int(name)]
        return None

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    """Parser directives: only at the very top, before any blank line, comment or instruction."""
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line.strip())
        if not m or m.group(1).lower() in found:
            return found, i
        key = m.group(1).lower()
        if key not in ("syntax", "escape", "check"):
            return found, i
        found[key] = m.group(2)
    return found, len(lines)


def _split_flags(text: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    rest = text.lstrip()
    while rest.startswith("--"):
        m = re.match(r"--([A-Za-z][\w-]*)(?:=(\"[^\"]*\"|\S*))?(?:\s+|$)", rest)
        if not m:
            break
        name, value = m.group(1), (m.group(2) or "").strip('"')
        flags[name] = f"{flags[name]};{value}" if name in flags else value
        rest = rest[m.end():]
    return flags, rest


def _json_array(text: str) -> list[str] | None:
    t = text.strip()
    if not t.startswith("["):
        return None
    try:
        value = json.loads(t)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    if "\x00" in text:
        raise DockerfileError(f"{path}: binary data, not a Dockerfile")
    lines = text.replace("\r\n", "\n").split("\n")
    directives, first = _directives(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(f"{path}:1: escape directive must be \\ or ` (got {escape!r})")
    instructions: list[Instruction] = []
    file_ignores: set[str] = set()
    pending_ignore: set[str] = set()
    i = first
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        if stripped.startswith("#"):
            m = _PRAGMA.search(stripped)
            if m:
                ids = {x.strip().upper() for x in m.group(2).split(",") if x.strip()}
                (file_ignores if m.group(1) == "ignore-file" else pending_ignore).update(ids)
            i += 1
            continue
        start = i
        logical, i = _logical_line(lines, i, escape)
        keyword, _, rest = logical.strip().partition(" ")
        if not re.match(r"^[A-Za-z]+$", keyword):
            raise DockerfileError(f"{path}:{start + 1}: cannot parse {keyword[:30]!r} as an instruction")
        kw = keyword.upper()
        if kw not in INSTRUCTIONS:
            raise DockerfileError(f"{path}:{start + 1}: unknown instruction {keyword}")
        flags, args = _split_flags(rest)
        heredocs: list[Heredoc] = []
        if kw in HEREDOC_INSTRUCTIONS:
            for m in _HEREDOC.finditer(args):
                name = m.group(2) or m.group(3) or m.group(4)
                body_lines = []
                while True:
                    if i >= len(lines):
                        raise DockerfileError(f"{path}:{start + 1}: heredoc <<{name} is never closed")
                    body_line = lines[i]
                    i += 1
                    check = body_line.lstrip("\t") if m.group(1) else body_line
                    if check == name:
                        break
                    body_lines.append(check if m.group(1) else body_line)
                heredocs.append(Heredoc(name, "\n".join(body_lines), bool(m.group(1))))
        inst = Instruction(kw, args.strip(), start + 1, i, "\n".join(lines[start:i]), flags, _json_array(args),
                           heredocs, pending_ignore)
        pending_ignore = set()
        instructions.append(inst)
    return _stages(path, directives, escape, instructions, file_ignores, lines)


def _logical_line(lines: list[str], i: int, escape: str) -> tuple[str, int]:
    """Join continuation lines; comment lines inside a continuation are skipped."""
    parts = []
    while i < len(lines):
        line = lines[i]
        i += 1
        if parts and line.strip().startswith("#"):
            continue
        body = line.rstrip()
        if body.endswith(escape):
            parts.append(body[:-1])
            if i >= len(lines):
                break
            continue
        parts.append(line)
        break
    return " ".join(p.strip() for p in parts if p.strip()), i


def _stages(path: str, directives: dict[str, str], escape: str, instructions: list[Instruction],
            file_ignores: set[str], lines: list[str]) -> Dockerfile:
    stages: list[Stage] = []
    global_args: list[Instruction] = []
    for inst in instructions:
        if inst.keyword == "FROM":
            words = inst.args.split()
            if not words:
                raise DockerfileError(f"{path}:{inst.line}: FROM needs an image")
            name = None
            if len(words) >= 3 and words[1].lower() == "as":
                name = words[2]
            elif len(words) != 1:
                raise DockerfileError(f"{path}:{inst.line}: FROM takes IMAGE [AS NAME]")
            stages.append(Stage(len(stages), words[0], name, inst.flags.get("platform"), inst.line))
            inst.stage = len(stages) - 1
            stages[-1].instructions.append(inst)
        elif not stages:
            if inst.keyword != "ARG":
                raise DockerfileError(f"{path}:{inst.line}: {inst.keyword} before the first FROM (only ARG may be)")
            global_args.append(inst)
        else:
            inst.stage = len(stages) - 1
            stages[-1].instructions.append(inst)
    if not stages:
        raise DockerfileError(f"{path}: no FROM instruction")
    return Dockerfile(path, directives, escape, instructions, stages, global_args, file_ignores, lines)
