"""`slimgo lint --fix`: rewrites that cannot change what the image does, only how it is built.

A fix is applied only to a finding that is reported (so a pragma or a `.slimgo.yaml` ignore also stops the
rewrite) and only where it is provably safe; anything else stays a finding. Each fix edits whole lines of
the original text, bottom-up, so earlier line numbers stay valid, and reports the first line it changed.
Bytes that are not UTF-8, CRLF line ends and a BOM survive the rewrite.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from ..fsutil import write_bytes
from .lint import LintSettings, lint_dockerfile, lint_text, parse_error_finding, read_dockerfile, settings_for
from .parse import Dockerfile, DockerfileError, Instruction, Stage, parse, shell_words, split_lines, unquote
from .rules.cache import copies_whole_context
from .rules.model import Context, Finding, kind_of_image
from .rules.security import drops_privileges, final_user
from .rules.size import apk_add_commands

MAX_EXEC_FORM = 4096  # longer shell-form commands stay findings: converting them is not worth the risk
_SHELL_META = re.compile(r"[$`|&;<>()*?\[\]{}~\\!#]")
NONROOT = "USER 65532:65532"


@dataclass(frozen=True)
class Fix:
    rule: str
    line: int  # the first line of the original file that the fix changed (or that an insertion follows)
    description: str

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "line": self.line, "description": self.description}


@dataclass
class _Edit:
    start: int  # 1-based first line replaced; an insertion after line N is (N + 1, N)
    end: int
    new: list[str]
    rule: str
    description: str


def _first_changed(old: list[str], new: list[str], start: int) -> int:
    for k, (a, b) in enumerate(zip(old, new)):
        if a != b:
            return start + k
    return start + min(len(old), len(new))


def _exec_form(inst: Instruction) -> list[str] | None:
    """The exec-form words of a shell-form command, when the shell adds nothing (no expansion, no operators)."""
    args = inst.args
    if not args or inst.is_json or len(args) > MAX_EXEC_FORM or args.lstrip().startswith("["):
        return None  # `["/app"` is a broken exec form: guessing what was meant is not a mechanical fix
    words = shell_words(args)
    if not words or any(_SHELL_META.search(w.replace("'", "").replace('"', "")) for w in words):
        return None
    return [unquote(w) for w in words]


def _apk_edit(inst: Instruction, lines: list[str]) -> list[str] | None:
    if inst.heredocs or not apk_add_commands(inst.script()):
        return None
    old = lines[inst.line - 1:inst.end_line]
    new = [re.sub(r"\bapk(\s+)add\b(?!.*--no-cache)", r"apk\1add --no-cache", ln) for ln in old]
    if new == old:
        new = [re.sub(r"\bapk\b(?=\s)(?!.*--no-cache)", "apk --no-cache", ln, count=1) for ln in old]
    return new if new != old else None


def _user_is_safe(ctx: Context, final: Stage) -> str:
    """Why inserting USER 65532:65532 at the end of the final stage could break the image ('' if it cannot)."""
    chain = ctx.stage_chain(final)
    insts = [i for s in reversed(chain) for i in s.instructions]
    root = ctx.root_image(final)
    if "$" in root or kind_of_image(root) == "unknown" and root != "scratch":
        return "the base image is not known, it may need root or set its own user"
    if drops_privileges(ctx, final):
        return "the entrypoint drops privileges itself (su-exec/gosu/setpriv need root)"
    for i in insts:
        script = i.script() if i.keyword == "RUN" else ""
        if re.search(r"\b(adduser|useradd|addgroup|groupadd)\b", script):
            return "the Dockerfile creates its own user: set USER to that user"
        if i.keyword == "WORKDIR" and re.match(r"^/root(/|$)", i.args.strip()):
            return "WORKDIR is under /root (mode 0700): nonroot cannot read it"
        if i.keyword in ("COPY", "ADD") and i.words() and re.match(r"^/root(/|$)", i.words()[-1]):
            return "files are copied under /root (mode 0700): nonroot cannot read them"
        if i.keyword in ("ENTRYPOINT", "CMD") and "/root/" in i.args:
            return "the program lives under /root (mode 0700)"
        if i.keyword == "VOLUME":
            return "a VOLUME is created root-owned: nonroot may not write to it"
        if i.keyword == "EXPOSE" and any(p.split("/")[0].isdigit() and int(p.split("/")[0][:6]) < 1024
                                         for p in i.args.split()):
            return "a port below 1024 needs root (or a capability) outside Docker"
        if i.keyword == "ONBUILD":
            return "ONBUILD steps of child images would run as nonroot"
    return ""


def fix_text(text: str, path: str, directory: Path | None,
             settings: LintSettings | None = None) -> tuple[str, list[Fix]]:
    df = parse(text, path)
    settings = settings or LintSettings()
    reported = {(f.rule, f.line) for f in lint_dockerfile(df, directory, settings)}
    lines = split_lines(text)
    edits: list[_Edit] = []
    ctx = Context(df, directory)
    for inst in df.instructions:
        if inst.keyword == "RUN" and ("SG105", inst.line) in reported:
            new = _apk_edit(inst, lines)
            if new is not None:
                edits.append(_Edit(inst.line, inst.end_line, new, "SG105", "apk add --no-cache"))
    final = df.final
    if final is not None:
        _exec_form_edits(ctx, final, reported, edits)
        _user_edit(ctx, final, reported, edits)
    for stage in df.stages:
        _move_copy_edit(stage, lines, reported, edits)
    fixes: list[Fix] = []
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        old = lines[e.start - 1:e.end]
        where = e.start - 1 if e.end < e.start else _first_changed(old, e.new, e.start)
        lines[e.start - 1:e.end] = e.new
        if e.description:
            fixes.append(Fix(e.rule, where, e.description))
    return _join(text, lines), sorted(fixes, key=lambda f: f.line)


def _join(original: str, lines: list[str]) -> str:
    newline = "\r\n" if "\r\n" in original else "\n"
    bom = "\ufeff" if original.startswith("\ufeff") else ""
    tail = newline if original.endswith("\n") else ""
    return bom + newline.join(lines) + tail


def _exec_form_edits(ctx: Context, final: Stage, reported: set[tuple[str, int]], edits: list[_Edit]) -> None:
    chain = ctx.stage_chain(final)
    has_entrypoint = any(s.find("ENTRYPOINT") for s in chain)
    known_base = kind_of_image(ctx.root_image(final)) != "unknown" or ctx.root_image(final) == "scratch"
    for inst in final.instructions:
        if inst.keyword not in ("ENTRYPOINT", "CMD") or ("SG303", inst.line) not in reported:
            continue
        # exec form changes what the other one receives: a shell-form ENTRYPOINT ignores CMD, and a
        # shell-form CMD hands `/bin/sh -c …` to an ENTRYPOINT; convert only where neither exists
        if inst.keyword == "ENTRYPOINT" and final.find("CMD"):
            continue
        if inst.keyword == "CMD" and (has_entrypoint or not known_base):
            continue
        words = _exec_form(inst)
        if words is None:
            continue
        edits.append(_Edit(inst.line, inst.end_line, [f"{inst.keyword} {json.dumps(words)}"], "SG303",
                           f"{inst.keyword} in exec form"))


def _user_edit(ctx: Context, final: Stage, reported: set[tuple[str, int]], edits: list[_Edit]) -> None:
    if final_user(ctx) is not None or not any(f[0] == "SG301" for f in reported):
        return
    if _user_is_safe(ctx, final):
        return
    last = final.instructions[-1]
    edits.append(_Edit(last.end_line + 1, last.end_line, [NONROOT], "SG301",
                       f"{NONROOT} added after line {last.end_line}, at the end of the final stage"))


def _move_copy_edit(stage: Stage, lines: list[str], reported: set[tuple[str, int]], edits: list[_Edit]) -> None:
    from .rules.model import GO_MOD_DOWNLOAD

    copy_all = next((i for i in stage.instructions if copies_whole_context(i)), None)
    if copy_all is None or ("SG201", copy_all.line) not in reported:
        return
    download = next((i for i in stage.instructions if i.keyword == "RUN" and not i.heredocs and
                     GO_MOD_DOWNLOAD.search(i.script())), None)
    if download is None or download.line < copy_all.line or copy_all.pragma_line or download.pragma_line:
        return
    between = [i for i in stage.instructions if copy_all.line < i.line < download.line]
    if not all(i.keyword in ("ENV", "ARG", "WORKDIR", "COPY", "RUN") and not copies_whole_context(i)
               and not (i.keyword == "RUN" and re.search(r"\bgo\b", i.script())) for i in between):
        return
    has_mod_copy = any(i.keyword == "COPY" and "go.mod" in i.args for i in stage.instructions if i.line < download.line)
    block = lines[download.line - 1:download.end_line]
    copy_block = lines[copy_all.line - 1:copy_all.end_line]
    edits.append(_Edit(download.line, download.end_line, block + copy_block, "SG201", ""))
    edits.append(_Edit(copy_all.line, copy_all.end_line, [] if has_mod_copy else ["COPY go.mod go.sum* ./"],
                       "SG201", "COPY . . moved after go mod download"))


def fix_file(path: Path, settings: LintSettings | None = None) -> tuple[list[Fix], list[Finding]]:
    settings = settings or settings_for(path)
    try:
        text = read_dockerfile(path)
        fixed, applied = fix_text(text, str(path), path.parent, settings)
    except DockerfileError as exc:
        return [], [parse_error_finding(exc, str(path))]
    except BadInput as exc:
        return [], [parse_error_finding(exc, str(path))]
    if fixed != text:
        write_bytes(path, fixed.encode("utf-8", "surrogateescape"))
    return applied, lint_text(fixed, str(path), path.parent, settings)


__all__ = ["Fix", "fix_file", "fix_text", "Dockerfile"]
