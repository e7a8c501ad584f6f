"""A Dockerfile parser that keeps what a linter needs: lines, flags, forms, heredocs, stages.

It follows BuildKit's parser (frontend/dockerfile/parser) line for line, because BuildKit decides what a
Dockerfile means and a linter that rejects a file Docker builds is useless in CI: a UTF-8 BOM is dropped,
parser directives (`# syntax=`, `# escape=`, `# check=`) are read only at the top, a continuation ends with
the escape character plus optional blanks (not an escaped escape), comment and blank lines inside a
continuation are skipped, continued lines are concatenated as BuildKit does, the keyword ends at any run of
blanks (tabs too), heredocs (`<<EOF`, `<<-EOF`, quoted names, several per instruction) are whole words of
the line, an invalid JSON array is shell form, and a line longer than BuildKit's 64 KiB scanner limit is
refused as BuildKit refuses it. Every step is linear in the input, so hostile files cannot stall it.
Malformed input raises DockerfileError naming the line.
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
MAX_LINE_BYTES = 65535  # bufio.MaxScanTokenSize - 1: BuildKit refuses longer lines
MAX_BYTES = 32 << 20  # far above any real Dockerfile; bounds the time and memory of a hostile one
MAX_STAGE_INDEX_DIGITS = 6
_DIRECTIVE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$")
_HEREDOC_WORD = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_BLANKS = re.compile(r"[\t\v\f\r ]+")
_SLIMGO_PRAGMA = re.compile(r"#\s*slimgo:(ignore|ignore-file)\s*=\s*([A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*)")
_HADOLINT_PRAGMA = re.compile(r"#\s*hadolint\s+(global\s+)?ignore\s*=\s*([A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*)")

# hadolint rules with a slimgo equivalent: a `# hadolint ignore=` written for hadolint also silences ours.
HADOLINT_EQUIVALENTS = {
    "DL3002": {"SG301"},  # last USER should not be root
    "DL3006": {"SG304"},  # always tag the image
    "DL3007": {"SG304"},  # do not use latest
    "DL3009": {"SG106"},  # delete the apt lists
    "DL3019": {"SG105"},  # apk add --no-cache
    "DL3020": {"SG203"},  # ADD with a URL/archive
    "DL3025": {"SG303"},  # JSON notation for CMD and ENTRYPOINT
    "DL3044": {"SG305"},  # secrets in ENV (hadolint: self-referencing ENV; close enough for suppression)
}


class DockerfileError(BadInput):
    def __init__(self, message: str, line: int = 0, path: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.path = path


@dataclass
class Heredoc:
    name: str
    body: str
    strip_tabs: bool


@dataclass
class Instruction:
    keyword: str
    args: str  # the text after the keyword and flags, continuations joined as BuildKit joins them
    line: int  # 1-based line of the keyword
    end_line: int
    raw: str  # the source text, continuations and heredoc bodies included
    flags: dict[str, str] = field(default_factory=dict)
    json_args: list[str] | None = None  # set when the arguments are a valid JSON array of strings
    heredocs: list[Heredoc] = field(default_factory=list)
    ignore: set[str] = field(default_factory=set)  # rule IDs from pragmas just above
    pragma_line: int = 0  # the first line of the comment block that holds those pragmas (0: none)
    stage: int = -1  # index of the stage; -1 for ARGs before the first FROM

    @property
    def is_json(self) -> bool:
        return self.json_args is not None

    def words(self) -> list[str]:
        return self.json_args if self.json_args is not None else self.args.split()

    def script(self) -> str:
        """What a RUN executes: the shell text, or the heredoc bodies when the command is a heredoc."""
        if not self.heredocs:
            return self.args
        return "\n".join([self.args] + [h.body for h in self.heredocs])


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
    _names: dict[str, Stage] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for s in self.stages:
            if s.name:
                self._names.setdefault(s.name.lower(), s)

    def stage_by_name(self, name: str) -> Stage | None:
        """A stage by name (case-insensitive) or by index; one dict lookup, so chains stay linear."""
        found = self._names.get(name.lower())
        if found is not None:
            return found
        if name.isascii() and name.isdigit() and len(name) <= MAX_STAGE_INDEX_DIGITS and int(name) < len(self.stages):
            return self.stages[int(name)]
        return None

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def split_lines(text: str) -> list[str]:
    """Lines as BuildKit's scanner sees them: split on LF, trailing CR/LF dropped, a first-line BOM removed."""
    lines = text.split("\n")
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()
    lines = [ln.rstrip("\r") for ln in lines]
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return lines


def _too_long(line: str) -> bool:
    return len(line) > MAX_LINE_BYTES // 4 and len(line.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES


def _continuation(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*$|^{e}[ \t]*$")


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def shell_words(text: str, escape: str = "\\") -> list[str]:
    """Split shell text into words with quotes kept (BuildKit's RawQuotes lexing); linear, never raises."""
    words: list[str] = []
    cur: list[str] = []
    quote = ""
    in_word = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            cur.append(ch)
            if ch == escape and quote == '"' and i + 1 < n:
                cur.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in " \t\n\r\f\v":
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            in_word = True
            cur.append(ch)
            if ch in "'\"":
                quote = ch
            elif ch == escape and i + 1 < n:
                cur.append(text[i + 1])
                i += 1
        i += 1
    if in_word:
        words.append("".join(cur))
    return words


def unquote(word: str, escape: str = "\\") -> str:
    """A shell word without its quotes and escapes (no expansion)."""
    out: list[str] = []
    quote = ""
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote == '"' and i + 1 < n and word[i + 1] in '"$`\n' + escape:
                out.append(word[i + 1])
                i += 1
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == escape and i + 1 < n:
            out.append(word[i + 1])
            i += 1
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _heredoc_names(line: str) -> list[tuple[str, bool]]:
    if "<<" not in line:
        return []
    found = []
    for word in shell_words(line):
        m = _HEREDOC_WORD.match(word)
        if m and m.group(3):
            name = unquote(m.group(3))
            if name and not _BLANKS.search(name):
                found.append((name, m.group(2) == "-"))
    return found


def _split_flags(text: str) -> tuple[dict[str, str], str]:
    """Leading `--name[=value]` words, as BuildKit's extractBuilderFlags reads them (quotes allowed)."""
    flags: dict[str, str] = {}
    rest = text.lstrip()
    while rest.startswith("--"):
        m = re.match(r"--([A-Za-z][\w-]*)(?:=(\"[^\"]*\"|'[^']*'|\S*))?(?=\s|$)", rest)
        if not m:
            break
        name, value = m.group(1), (m.group(2) or "")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        flags[name] = f"{flags[name]};{value}" if name in flags else value
        rest = rest[m.end():].lstrip()
    return flags, rest


JSON_FORM_INSTRUCTIONS = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME"}


class _NotStrings(ValueError):
    pass


def _json_array(text: str) -> list[str] | None:
    """The exec-form words; None for shell form (not JSON at all); _NotStrings for a JSON array of
    something else, which BuildKit refuses. Deep nesting is bounded by json's recursion limit."""
    t = text.strip()
    if not t.startswith("["):
        return None
    try:
        value = json.loads(t)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise _NotStrings("when using JSON array syntax, arrays must be comprised of strings only")
    return value


def _pragmas(comment: str) -> tuple[set[str], set[str]]:
    """(instruction ignores, file ignores) named by one comment line, hadolint's mapped onto ours."""
    inst: set[str] = set()
    whole: set[str] = set()
    m = _SLIMGO_PRAGMA.search(comment)
    if m:
        ids = {x.strip().upper() for x in m.group(2).split(",")}
        (whole if m.group(1) == "ignore-file" else inst).update(ids)
    h = _HADOLINT_PRAGMA.search(comment)
    if h:
        ids = {x.strip().upper() for x in h.group(2).split(",")}
        mapped = set().union(*(HADOLINT_EQUIVALENTS.get(i, set()) for i in ids)) | ids
        (whole if h.group(1) else inst).update(mapped)
    return inst, whole


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    if len(text) > MAX_BYTES:
        raise DockerfileError(f"{path}: larger than {MAX_BYTES >> 20} MiB, not a Dockerfile", 0, path)
    lines = split_lines(text)
    directives: dict[str, str] = {}
    first = 0
    for first, line in enumerate(lines):  # noqa: B007
        m = _DIRECTIVE.match(line.lstrip())
        if not m or m.group(1).lower() not in ("syntax", "escape", "check"):
            break
        key = m.group(1).lower()
        if key in directives:
            raise DockerfileError(f"{path}:{first + 1}: only one {key} parser directive can be used", first + 1, path)
        directives[key] = m.group(2)
    else:
        first = len(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(f"{path}:1: escape directive must be \\ or ` (got {escape!r})", 1, path)
    cont = _continuation(escape)
    instructions: list[Instruction] = []
    file_ignores: set[str] = set()
    pending: set[str] = set()
    pending_line = 0
    i = first
    n = len(lines)
    while i < n:
        line = lines[i]
        if _too_long(line):
            raise DockerfileError(f"{path}:{i + 1}: line longer than {MAX_LINE_BYTES} bytes "
                                  "(BuildKit's limit)", i + 1, path)
        stripped = line.lstrip()
        if not stripped.strip():
            i += 1
            continue
        if stripped.startswith("#"):
            inst_ids, file_ids = _pragmas(stripped)
            file_ignores |= file_ids
            if inst_ids:
                pending |= inst_ids
                pending_line = pending_line or i + 1
            i += 1
            continue
        start = i
        parts: list[str] = []
        body, ended = _trim_continuation(cont, stripped)
        parts.append(body)
        i += 1
        while not ended and i < n:
            nxt = lines[i]
            if _too_long(nxt):
                raise DockerfileError(f"{path}:{i + 1}: line longer than {MAX_LINE_BYTES} bytes "
                                      "(BuildKit's limit)", i + 1, path)
            i += 1
            if _is_comment(nxt) or not nxt.strip():
                continue
            body, ended = _trim_continuation(cont, nxt)
            parts.append(body)
        logical = "".join(parts).strip()
        split = _BLANKS.split(logical, maxsplit=1)
        keyword = split[0]
        rest = split[1] if len(split) > 1 else ""
        kw = keyword.upper()
        if kw not in INSTRUCTIONS:
            what = "binary data, not a Dockerfile" if "\x00" in text else \
                f"unknown instruction {keyword[:40]}" if keyword.isalpha() else \
                f"cannot parse {keyword[:30]!r} as an instruction"
            raise DockerfileError(f"{path}:{start + 1}: {what}", start + 1, path)
        flags, args = _split_flags(rest)
        heredocs: list[Heredoc] = []
        if kw in HEREDOC_INSTRUCTIONS:
            for name, chomp in _heredoc_names(logical):
                body_lines: list[str] = []
                while True:
                    if i >= n:
                        raise DockerfileError(f"{path}:{start + 1}: heredoc <<{name} is never closed", start + 1, path)
                    body_line = lines[i]
                    i += 1
                    check = body_line.lstrip("\t") if chomp else body_line
                    if check == name:
                        break
                    body_lines.append(check)
                heredocs.append(Heredoc(name, "\n".join(body_lines), chomp))
        try:
            json_args = _json_array(args) if kw in JSON_FORM_INSTRUCTIONS else None
        except _NotStrings as exc:
            raise DockerfileError(f"{path}:{start + 1}: {exc}", start + 1, path) from None
        inst = Instruction(kw, args.strip(), start + 1, i, "\n".join(lines[start:i]), flags, json_args,
                           heredocs, pending, pending_line)
        pending, pending_line = set(), 0
        instructions.append(inst)
    return _stages(path, directives, escape, instructions, file_ignores, lines)


def _trim_continuation(cont: re.Pattern[str], line: str) -> tuple[str, bool]:
    """(line without its continuation escape, whether the instruction ends here)."""
    m = cont.search(line)
    if m is None:
        return line, True
    return line[:m.start()] + (m.group(1) or ""), False


def _stages(path: str, directives: dict[str, str], escape: str, instructions: list[Instruction],
            file_ignores: set[str], lines: list[str]) -> Dockerfile:
    stages: list[Stage] = []
    global_args: list[Instruction] = []
    for inst in instructions:
        if inst.keyword == "FROM":
            words = inst.args.split()
            if not words:
                raise DockerfileError(f"{path}:{inst.line}: FROM needs an image", inst.line, path)
            name = None
            if len(words) == 3 and words[1].lower() == "as":
                name = words[2]
            elif len(words) != 1:
                raise DockerfileError(f"{path}:{inst.line}: FROM takes IMAGE [AS NAME]", inst.line, path)
            stages.append(Stage(len(stages), unquote(words[0]), name, inst.flags.get("platform"), inst.line))
            inst.stage = len(stages) - 1
            stages[-1].instructions.append(inst)
        elif not stages:
            if inst.keyword != "ARG":
                raise DockerfileError(f"{path}:{inst.line}: {inst.keyword} before the first FROM (only ARG may be)",
                                      inst.line, path)
            global_args.append(inst)
        else:
            inst.stage = len(stages) - 1
            stages[-1].instructions.append(inst)
    if not stages:
        raise DockerfileError(f"{path}: no FROM instruction", 0, path)
    return Dockerfile(path, directives, escape, instructions, stages, global_args, file_ignores, lines)
