"""SG1xx: what makes Go images big."""

from __future__ import annotations

import re
from typing import Iterator

from ..parse import Instruction
from .base import Context, Rule, go_builds, kind_of_image, runs

Where = tuple[Instruction | int, str, str]


def final_stage_is_fat(ctx: Context) -> Iterator[Where]:
    final = ctx.df.final
    if final is None or len(ctx.df.stages) == 1:
        return  # single-stage is SG102's finding
    root = ctx.root_image(final)
    kind = kind_of_image(root)
    first = final.instructions[0]
    if kind == "toolchain":
        yield first, f"final stage is the Go toolchain image {root!r}: the whole build environment ships", \
            "copy the binary into a static base: FROM gcr.io/distroless/static-debian12 or scratch"
    elif kind == "distro":
        yield first, f"final stage is a full distro image {root!r} (shell, package manager, libc)", \
            "a CGO_ENABLED=0 Go binary needs none of it: use a distroless/static or scratch final stage"


def single_stage_build(ctx: Context) -> Iterator[Where]:
    if len(ctx.df.stages) != 1:
        return
    builds = go_builds(ctx.df.stages[0])
    if builds:
        yield builds[0], "single-stage Go build: the toolchain, module cache and sources ship in the image", \
            "build in a `FROM golang AS build` stage and COPY --from=build only the binary"


def _go_build_runs(ctx: Context) -> Iterator[Instruction]:
    return (inst for stage in ctx.df.stages for inst in go_builds(stage))


def missing_strip_flags(ctx: Context) -> Iterator[Where]:
    for inst in _go_build_runs(ctx):
        script = inst.script()
        if re.search(r"-gcflags[= ]['\"]?all=-N", script):
            continue  # a debug build keeps symbols on purpose
        # -s alone is enough: since Go 1.22 it implies -w.
        has_s = re.search(r"-ldflags[= ]['\"]?[^'\"]*-s\b", script) or re.search(r"-ldflags=-s\b", script)
        if not has_s:
            yield inst, "go build without -ldflags \"-s -w\": symbol table and DWARF ship (often 25-35% of the binary)", \
                "add -ldflags=\"-s -w\" (panics keep file:line: .gopclntab stays)"


def missing_trimpath(ctx: Context) -> Iterator[Where]:
    for inst in _go_build_runs(ctx):
        if "-trimpath" not in inst.script():
            yield inst, "go build without -trimpath: absolute build paths end up in the binary", \
                "add -trimpath (smaller, and reproducible across checkouts)"


def apk_without_no_cache(ctx: Context) -> Iterator[Where]:
    for stage in ctx.df.stages:
        for inst in runs(stage):
            for cmd in re.split(r"&&|;|\|\|", inst.script()):
                if re.search(r"\bapk\s+(?:\S+\s+)*add\b", cmd) and "--no-cache" not in cmd:
                    yield inst, "apk add without --no-cache leaves the package index in the layer", \
                        "use `apk add --no-cache …`"
                    break


def apt_without_cleanup(ctx: Context) -> Iterator[Where]:
    for stage in ctx.df.stages:
        for inst in runs(stage):
            script = inst.script()
            if re.search(r"\bapt(-get)?\s+(?:\S+\s+)*install\b", script) and \
                    "/var/lib/apt/lists" not in script and "type=cache" not in inst.flags.get("mount", ""):
                yield inst, "apt-get install without removing /var/lib/apt/lists in the same RUN", \
                    "end the RUN with `&& rm -rf /var/lib/apt/lists/*` (or use a cache mount)"


def _stage_targets_arm64_or_pie(ctx: Context, inst: Instruction) -> str:
    stage = ctx.df.stages[inst.stage]
    script = inst.script() + " " + " ".join(i.script() for i in runs(stage))
    env = ctx.stage_env(stage)
    if re.search(r"GOARCH=(\"|')?arm64", script) or env.get("GOARCH") == "arm64" or \
            "arm64" in (stage.platform or "") or "aarch64" in script:
        return "arm64"
    if "-buildmode=pie" in script:
        return "PIE"
    return ""


def upx_risky_targets(ctx: Context) -> Iterator[Where]:
    for stage in ctx.df.stages:
        for inst in runs(stage):
            if re.search(r"\bupx\b", inst.script()) and "apt" not in inst.script() and "apk" not in inst.script():
                target = _stage_targets_arm64_or_pie(ctx, inst)
                if target:
                    yield inst, f"upx on a {target} Go binary: known crashes and CantPackException (upx/upx#443, #743)", \
                        "skip UPX for this target; compressed layers already cut the pull size"


def modified_after_upx(ctx: Context) -> Iterator[Where]:
    for stage in ctx.df.stages:
        packed = False
        for inst in runs(stage):
            script = inst.script()
            for cmd in re.split(r"&&|;|\n", script):
                if re.search(r"\bupx\b(?!-ucl)", cmd) and not re.search(r"\b(apt|apk|install)\b", cmd) \
                        and "-d" not in cmd.split():
                    packed = True
                elif packed and re.search(r"\b(strip|objcopy|sstrip)\b", cmd):
                    yield inst, "binary modified after upx: a packed file that is stripped afterwards is broken", \
                        "strip (or build with -s -w) before running upx, never after"
                    return


RULES = [
    Rule("SG101", "error", "final stage is a toolchain or full distro image",
         "The final stage decides what ships. A Go toolchain image is ~800 MiB and a distro ~80-120 MiB, against "
         "~2 MiB for a static base. A CGO_ENABLED=0 binary needs nothing from either.", final_stage_is_fat),
    Rule("SG102", "error", "single-stage Go build",
         "With one stage, the compiler, the module cache and the source tree are all in the image. Build in "
         "one stage and copy the binary into a minimal final stage.", single_stage_build),
    Rule("SG103", "warning", "go build without -s -w",
         "The symbol table (.symtab) and DWARF are not needed at run time. -s drops the symbol table and, "
         "since Go 1.22, implies -w (no DWARF). Panics still print file:line, because .gopclntab is runtime "
         "data (golang/go#11622).", missing_strip_flags),
    Rule("SG104", "info", "go build without -trimpath",
         "-trimpath replaces absolute source paths with module paths. It makes builds reproducible across "
         "machines and checkouts, and trims a little.", missing_trimpath),
    Rule("SG105", "warning", "apk add without --no-cache",
         "Without --no-cache, apk keeps /var/cache/apk in the layer.", apk_without_no_cache, fixable=True),
    Rule("SG106", "warning", "apt-get install without list cleanup",
         "apt's package lists (/var/lib/apt/lists, tens of MiB) stay in the layer unless they are removed in "
         "the same RUN.", apt_without_cleanup),
    Rule("SG107", "warning", "upx for arm64 or PIE targets",
         "UPX has documented failures with Go binaries on arm64 (crashes with large environments: "
         "upx/upx#443, #743, #952) and on -buildmode=pie (CantPackException).", upx_risky_targets),
    Rule("SG108", "error", "binary modified after upx",
         "UPX checks its packed file at start-up. Stripping or editing it afterwards breaks it, and UPX "
         "documents exit code 127 for a file modified after compression. Strip first, then pack.",
         modified_after_upx),
]
