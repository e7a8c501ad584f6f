"""SG2xx: what makes Docker rebuild more than it must."""

from __future__ import annotations

import re
from typing import Iterator

from ..parse import Instruction
from .model import GO_BUILD, GO_MOD_DOWNLOAD, Context, Hit, Rule, commands, go_build_commands, runs


def copies_whole_context(inst: Instruction) -> bool:
    if inst.keyword not in ("COPY", "ADD") or "from" in inst.flags:
        return False
    words = inst.words()
    return len(words) >= 2 and any(w in (".", "./", "*") for w in words[:-1])


def copy_all_before_download(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.df.stages:
        copied: Instruction | None = None
        for inst in stage.instructions:
            if copies_whole_context(inst) and copied is None:
                copied = inst
            elif inst.keyword == "RUN" and copied is not None and (m := GO_MOD_DOWNLOAD.search(inst.script())):
                what = "go mod download" if "mod" in m.group(0) else "go get"
                yield copied, f"COPY . . before `{what}`: every source change re-downloads all modules", \
                    "COPY go.mod go.sum ./ then RUN go mod download, and only then COPY . ."
                break


TIME_VARYING = re.compile(r"\$\(\s*date\b|`date\b|\$RANDOM\b|\buuidgen\b|/proc/sys/kernel/random|"
                          r"\$\{?(CACHEBUST|CACHE_BUST|BUILD_DATE|BUILD_TIME|TIMESTAMP)\b|--no-cache-bust|\bshuf\b")


def _time_varying(script: str) -> str:
    m = TIME_VARYING.search(script)
    if m:
        return m.group(0).strip()
    for words in commands(script):
        if words and words[0] == "date" and not any(w.startswith(("-d", "--date", "-r", "--reference")) for w in words):
            return "date"
    return ""


def time_varying_run(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.df.stages:
        for inst in runs(stage):
            what = _time_varying(inst.script())
            if what:
                yield inst, f"RUN output varies with time or chance ({what}): the layer differs every build", \
                    "pass build metadata as a build arg at the last step, or use SOURCE_DATE_EPOCH; fix UIDs"
    for inst in ctx.df.instructions:
        if inst.keyword == "ARG" and re.search(r"\b(CACHEBUST|CACHE_BUST)\b", inst.args):
            yield inst, "cache-busting ARG: changing it invalidates every later step", \
                "remove the buster; BuildKit cache keys already follow the inputs"


def add_url(ctx: Context) -> Iterator[Hit]:
    for inst in ctx.df.instructions:
        if inst.keyword == "ADD" and any(re.match(r"^https?://", w) for w in inst.words()[:-1]) \
                and "checksum" not in inst.flags:
            yield inst, "ADD <url>: fetched at every build without a checksum, and not cached by content", \
                "use ADD --checksum=sha256:… (BuildKit) or download with a verified checksum in RUN"


def missing_cache_mounts(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.df.stages:
        for inst in runs(stage):
            script = inst.script()
            if not (GO_BUILD.search(script) or GO_MOD_DOWNLOAD.search(script)):
                continue
            mounts = inst.flags.get("mount", "")
            if "type=cache" not in mounts:
                what = "build" if GO_BUILD.search(script) else "module"
                yield inst, f"go {what} step without a BuildKit cache mount: every rebuild starts cold", \
                    "RUN --mount=type=cache,target=/root/.cache/go-build --mount=type=cache,target=/go/pkg/mod …"


def rebuild_all(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.df.stages:
        for b in go_build_commands(ctx, stage):
            if "-a" in b.words[2:]:
                yield b.inst, "go build -a rebuilds every package, the standard library included: the build " \
                    "cache is thrown away", "drop -a; Go's cache is keyed on content and flags already"


RULES = [
    Rule("SG201", "warning", "COPY . . before go mod download",
         "COPY keys on file contents. Copying the whole context before `go mod download` (or `go get -d`) "
         "means any source change invalidates the download layer. Copy go.mod and go.sum first.",
         copy_all_before_download, fixable=True),
    Rule("SG202", "warning", "RUN with time-varying output",
         "date, $RANDOM, shuf, uuidgen or a cache-bust argument make a layer differ on every build. That "
         "defeats caching and reproducibility (a random UID from shuf changes the image on every build).",
         time_varying_run),
    Rule("SG203", "warning", "ADD with a URL",
         "ADD <url> downloads on every build and is not verified. Pin the content with --checksum or fetch it "
         "in a RUN that checks a hash.", add_url),
    Rule("SG204", "info", "go build without BuildKit cache mounts",
         "Cache mounts keep Go's build cache (/root/.cache/go-build) and module cache (/go/pkg/mod) across "
         "builds without putting them in layers. Warm rebuilds then recompile only what changed.",
         missing_cache_mounts),
    Rule("SG205", "warning", "go build -a",
         "-a forces a rebuild of every package, the standard library included. It was a workaround for static "
         "builds before Go 1.10's content-keyed cache; today it only makes every build cold.", rebuild_all),
]
