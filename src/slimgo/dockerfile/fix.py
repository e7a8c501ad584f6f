"""`slimgo lint --fix`: mechanical rewrites that cannot change what the image does, only how it is built.

Each fix edits whole lines of the original text, bottom-up, so earlier line numbers stay valid; the
result is re-parsed and linted, and whatever is not mechanically fixable stays a finding.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from ..fsutil import write_bytes
from .lint import lint_dockerfile, settings_for
from .parse import Dockerfile, parse
from .rules.base import Context, Finding
from .rules.cache import copies_whole_context
from .rules.security import final_user


def _replace(lines: list[str], start: int, end: int, new: list[str]) -> None:
    lines[start - 1:end] = new


def fix_text(text: str, path: str, directory: Path | None) -> tuple[str, list[str]]:
    df = parse(text, path)
    lines = text.replace("\r\n", "\n").split("\n")
    applied: list[str] = []
    edits: list[tuple[int, int, list[str], str]] = []
    ctx = Context(df, directory)
    for inst in df.instructions:
        if inst.keyword == "RUN" and not inst.heredocs and re.search(r"\bapk\s+(?:\S+\s+)*add\b", inst.raw) \
                and "--no-cache" not in inst.raw:
            new = re.sub(r"\bapk(\s+)add\b", r"apk\1add --no-cache", inst.raw)
            edits.append((inst.line, inst.end_line, new.split("\n"), f"line {inst.line}: apk add --no-cache"))
    final = df.final
    if final is not None:
        for inst in final.instructions:
            if inst.keyword in ("ENTRYPOINT", "CMD") and not inst.is_json and inst.args and "$" not in inst.args \
                    and not re.search(r"[|&;<>]", inst.args):
                try:
                    words = shlex.split(inst.args)
                except ValueError:
                    continue
                edits.append((inst.line, inst.end_line, [f"{inst.keyword} {json.dumps(words)}"],
                              f"line {inst.line}: {inst.keyword} in exec form"))
        if final_user(ctx) is None and not any(s in ctx.root_image(final) for s in (":nonroot", "slimgo")):
            anchor = next((i for i in final.instructions if i.keyword in ("ENTRYPOINT", "CMD")), None)
            at = anchor.line if anchor else final.instructions[-1].end_line + 1
            edits.append((at, at - 1, ["USER 65532:65532"], "USER 65532:65532 in the final stage"))
    for stage in df.stages:
        copy_all = next((i for i in stage.instructions if copies_whole_context(i)), None)
        download = next((i for i in stage.instructions if i.keyword == "RUN" and
                         re.search(r"\bgo\s+mod\s+download\b", i.script()) and not i.heredocs), None)
        if copy_all and download and copy_all.line < download.line:
            between = [i for i in stage.instructions if copy_all.line < i.line < download.line]
            if all(i.keyword in ("ENV", "ARG", "WORKDIR", "COPY", "RUN") and not copies_whole_context(i)
                   and not (i.keyword == "RUN" and "go " in i.script()) for i in between):
                mod_copy = [] if any(i.keyword == "COPY" and "go.mod" in i.args for i in stage.instructions
                                     if i.line < download.line) else ["COPY go.mod go.sum* ./"]
                block = lines[download.line - 1:download.end_line]
                copy_block = lines[copy_all.line - 1:copy_all.end_line]
                edits.append((download.line, download.end_line, block + copy_block, ""))
                edits.append((copy_all.line, copy_all.end_line, mod_copy,
                              f"line {copy_all.line}: COPY . . moved after go mod download"))
    # apply bottom-up; an insertion is (at, at-1)
    for start, end, new, label in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        _replace(lines, start, end, new)
        if label:
            applied.append(label)
    return "\n".join(lines), list(reversed(applied))


def fix_file(path: Path) -> tuple[list[str], list[Finding]]:
    text = path.read_text(encoding="utf-8")
    fixed, applied = fix_text(text, str(path), path.parent)
    if fixed != text:
        write_bytes(path, fixed.encode())
    remaining = lint_dockerfile(parse(fixed, str(path)), path.parent, settings_for(path))
    return applied, remaining


__all__ = ["fix_file", "fix_text", "Dockerfile"]
