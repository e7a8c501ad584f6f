"""SG1xx: what makes Go images big."""

from __future__ import annotations

import re
from typing import Iterator

from ..parse import Instruction, Stage
from .model import (
    Context,
    Hit,
    Rule,
    commands,
    copied_from,
    go_builds,
    installs_packages,
    kind_of_image,
    libc_of_image,
    runs,
    shipped_builds,
)

TOOLCHAIN_USERS = re.compile(r"(^|/)(go|goreleaser|golangci-lint|ko|hugo|gopls|dlv|air|buffalo|mage|task)$")


def _uses_toolchain(stage: Stage, later_steps: bool = True) -> bool:
    """The image runs the Go toolchain on purpose (goreleaser, Hugo Modules, a dev image): its entrypoint
    does, or (for a final stage after a separate build) a step of it does."""
    for inst in stage.instructions:
        if inst.keyword in ("ENTRYPOINT", "CMD") and any(TOOLCHAIN_USERS.search(w) for w in inst.words()[:2]):
            return True
        if later_steps and inst.keyword == "RUN" and \
                any(w[:1] and TOOLCHAIN_USERS.search(w[0]) for w in commands(inst.script())):
            return True
    return False


def final_stage_is_fat(ctx: Context) -> Iterator[Hit]:
    final = ctx.df.final
    if final is None or len(ctx.df.stages) == 1:
        return  # single-stage is SG102's finding
    root = ctx.root_image(final)
    kind = kind_of_image(root)
    first = final.instructions[0]
    chain = ctx.stage_chain(final)
    if any(installs_packages(s) for s in chain):
        return  # packages installed on top: a build or tool environment on purpose (goreleaser, CI images)
    if kind == "toolchain" and not any(_uses_toolchain(s) for s in chain):
        yield first, f"final stage is the Go toolchain image {root!r}: the whole build environment ships", \
            "copy the binary into a static base: FROM gcr.io/distroless/static-debian12 or scratch"
    elif kind == "distro":
        yield first, f"final stage is a full distro image {root!r} (shell, package manager, libc) and installs " \
            "nothing from it", "a CGO_ENABLED=0 Go binary needs none of it: use a distroless/static or scratch final stage"


def single_stage_build(ctx: Context) -> Iterator[Hit]:
    if len(ctx.df.stages) != 1:
        return
    builds = go_builds(ctx.df.stages[0])
    if builds and not _uses_toolchain(ctx.df.stages[0], later_steps=False):
        yield builds[0], "single-stage Go build: the toolchain, module cache and sources ship in the image", \
            "build in a `FROM golang AS build` stage and COPY --from=build only the binary"


def _stripped_later(ctx: Context, inst: Instruction) -> bool:
    """A strip of the binary at or after this RUN, in the same stage (the last strip line, memoised)."""
    stage = ctx.df.stages[inst.stage]

    def last_strip() -> int:
        lines = [i.line for i in runs(stage) if "strip" in i.script() and
                 any(w and w[0].rsplit("/", 1)[-1] in ("strip", "llvm-strip") or
                     w[:1] == ["objcopy"] and "--strip-all" in w for w in commands(i.script()))]
        return max(lines, default=0)
    return ctx.memo(("last_strip", stage.index), last_strip) >= inst.line


def missing_strip_flags(ctx: Context) -> Iterator[Hit]:
    for b in shipped_builds(ctx):
        if any(re.search(r"all=-N", v) for v in b.flag_values("gcflags")):
            continue  # a debug build keeps symbols on purpose
        # -s alone is enough: since Go 1.22 it implies -w.
        if any("-s" in v.replace('"', " ").replace("'", " ").split() for v in b.flag_values("ldflags")):
            continue
        if any("$" in v for v in b.flag_values("ldflags")) or _stripped_later(ctx, b.inst):
            continue  # flags from a variable we cannot see, or a later strip: cannot tell, stay quiet
        yield b.inst, "go build without -ldflags \"-s -w\": symbol table and DWARF ship (often 25-35% of the binary)", \
            "add -ldflags=\"-s -w\" (panics keep file:line: .gopclntab stays)"


def missing_trimpath(ctx: Context) -> Iterator[Hit]:
    for b in shipped_builds(ctx):
        if not b.has_flag("trimpath") and "-trimpath" not in b.env.get("GOFLAGS", ""):
            yield b.inst, "go build without -trimpath: absolute build paths end up in the binary", \
                "add -trimpath (smaller, and reproducible across checkouts)"


def apk_add_commands(script: str) -> list[list[str]]:
    """`apk … add …` commands without --no-cache (word-level: no backtracking on `apk apk apk …`)."""
    found = []
    for words in commands(script):
        if words and words[0].rsplit("/", 1)[-1] == "apk" and "add" in words[1:] and "--no-cache" not in words:
            found.append(words)
    return found


def _shipped_chain(ctx: Context) -> set[int]:
    final = ctx.df.final
    return {s.index for s in ctx.stage_chain(final)} if final is not None else set()


def apk_without_no_cache(ctx: Context) -> Iterator[Hit]:
    shipped = _shipped_chain(ctx)
    for stage in ctx.df.stages:
        for inst in runs(stage):
            script = inst.script()
            if "apk" not in script or "type=cache" in inst.flags.get("mount", ""):
                continue
            cmds = commands(script)
            if apk_add_commands(script) and not any(w[:1] == ["rm"] and any("/var/cache/apk" in x for x in w)
                                                    for w in cmds):
                yield (inst, "apk add without --no-cache leaves the package index in the layer",
                       "use `apk add --no-cache …`", *(() if stage.index in shipped else ("info",)))


def apt_without_cleanup(ctx: Context) -> Iterator[Hit]:
    shipped = _shipped_chain(ctx)
    for stage in ctx.df.stages:
        for inst in runs(stage):
            script = inst.script()
            if "install" not in script or "/var/lib/apt/lists" in script or \
                    "type=cache" in inst.flags.get("mount", ""):
                continue
            if any(w and w[0].rsplit("/", 1)[-1] in ("apt-get", "apt") and "install" in w[1:]
                   for w in commands(script)):
                yield (inst, "apt-get install without removing /var/lib/apt/lists in the same RUN",
                       "end the RUN with `&& rm -rf /var/lib/apt/lists/*` (or use a cache mount)",
                       *(() if stage.index in shipped else ("info",)))


def _multi_platform(ctx: Context, stage: Stage) -> bool:
    env = ctx.stage_env(stage)
    return "BUILDPLATFORM" in (stage.platform or "") or any(k in env for k in ("TARGETARCH", "TARGETPLATFORM"))


def _upx_commands(inst: Instruction) -> bool:
    return any(w and w[0].rsplit("/", 1)[-1] == "upx" and "-d" not in w for w in commands(inst.script()))


def _arch_guarded(script: str) -> bool:
    """A test on the target architecture (`if [ "$TARGETARCH" = amd64 ]`, `case $TARGETARCH`, uname -m)."""
    for words in commands(script):
        if words and words[0] in ("if", "elif", "[", "[[", "test", "case") and \
                any("TARGETARCH" in w or "TARGETPLATFORM" in w or w == "-m" for w in words):
            return True
    return False


def upx_risky_targets(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.df.stages:
        upx_runs = [i for i in runs(stage) if "upx" in i.script() and _upx_commands(i)]
        if not upx_runs:
            continue
        whole = " ".join(i.script() for i in runs(stage))  # once per stage: linear in the file
        env = ctx.stage_env(stage)
        arm64 = bool(re.search(r"GOARCH=(\"|')?arm64", whole)) or env.get("GOARCH") == "arm64" or \
            "arm64" in (stage.platform or "")
        pie = "-buildmode=pie" in whole
        multi = _multi_platform(ctx, stage)
        for inst in upx_runs:
            script = inst.script()
            if arm64 or "aarch64" in script:
                target = "arm64"
            elif pie:
                target = "PIE"
            elif multi and not _arch_guarded(script):
                yield inst, "upx in a multi-platform build with no architecture guard: the arm64 image gets a " \
                    "packed binary too (upx/upx#443, #743)", \
                    'guard it: if [ "$TARGETARCH" = "amd64" ]; then upx …; fi'
                continue
            else:
                continue
            yield inst, f"upx on a {target} Go binary: known crashes and CantPackException (upx/upx#443, #743)", \
                "skip UPX for this target; compressed layers already cut the pull size"


def modified_after_upx(ctx: Context) -> Iterator[Hit]:
    for stage in ctx.df.stages:
        packed = False
        for inst in runs(stage):
            for words in commands(inst.script()):
                tool = words[0].rsplit("/", 1)[-1] if words else ""
                if tool == "upx" and "-d" not in words:
                    packed = True
                elif packed and tool in ("strip", "objcopy", "sstrip", "llvm-strip"):
                    yield inst, "binary modified after upx: a packed file that is stripped afterwards is broken", \
                        "strip (or build with -s -w) before running upx, never after"
                    return


def _context_dirs(ctx: Context, stage: Stage) -> tuple[set[str], str]:
    """(directories of a stage chain that received the whole build context, its final WORKDIR)."""
    def compute() -> tuple[set[str], str]:
        dirs: set[str] = set()
        wd = "/"
        for s in reversed(ctx.stage_chain(stage)):
            for i in s.instructions:
                if i.keyword == "WORKDIR":
                    arg = i.args.strip()
                    wd = arg if arg.startswith("/") else wd.rstrip("/") + "/" + arg
                elif i.keyword in ("COPY", "ADD") and "from" not in i.flags:
                    words = i.words()
                    if len(words) >= 2 and any(w in (".", "./") for w in words[:-1]):
                        dest = words[-1]
                        full = dest if dest.startswith("/") else wd.rstrip("/") + "/" + dest
                        dirs.add(re.sub(r"(/\.)+/?$", "", full).rstrip("/") or "/")
        return dirs, wd.rstrip("/") or "/"
    return ctx.memo(("context_dirs", stage.index), compute)


def source_tree_shipped(ctx: Context) -> Iterator[Hit]:
    final = ctx.df.final
    if final is None:
        return
    for copy, stage, sources in copied_from(ctx, final):
        dirs, workdir = _context_dirs(ctx, stage)
        for src in sources:
            norm = src.rstrip("/") or "/"
            if norm in ("./", "."):
                norm = workdir
            if norm in dirs or (norm == "/" and dirs):
                yield copy, f"COPY --from={copy.flags['from']} {src} ships the builder's whole source tree " \
                    "(sources, .git, test data) into the final image", \
                    "copy only the binary and the files it reads at run time"
                break


def alpine_for_static(ctx: Context) -> Iterator[Hit]:
    final = ctx.df.final
    if final is None or len(ctx.df.stages) == 1 or libc_of_image(ctx.root_image(final)) != "musl":
        return
    if any(i.keyword == "RUN" for i in final.instructions):
        return  # the stage uses the shell or the package manager: alpine is there on purpose
    builds = shipped_builds(ctx)
    if builds and all(b.env.get("CGO_ENABLED") == "0" for b in builds):
        yield final.instructions[0], "alpine runtime for a static Go binary that uses nothing from it", \
            "FROM gcr.io/distroless/static-debian12 (or scratch): smaller, and no shell for an attacker"


RULES = [
    Rule("SG101", "warning", "final stage is a toolchain or full distro image",
         "The final stage decides what ships. A Go toolchain image is ~800 MiB and a distro ~80-120 MiB, against "
         "~2 MiB for a static base. A CGO_ENABLED=0 binary needs nothing from either. Quiet when the final "
         "stage runs the toolchain on purpose (goreleaser, Hugo) or installs packages from the distro.",
         final_stage_is_fat),
    Rule("SG102", "error", "single-stage Go build",
         "With one stage, the compiler, the module cache and the source tree are all in the image. Build in "
         "one stage and copy the binary into a minimal final stage.", single_stage_build),
    Rule("SG103", "warning", "go build without -s -w",
         "The symbol table (.symtab) and DWARF are not needed at run time. -s drops the symbol table and, "
         "since Go 1.22, implies -w (no DWARF). Panics still print file:line, because .gopclntab is runtime "
         "data (golang/go#11622). Checked only on binaries that reach the final image.", missing_strip_flags),
    Rule("SG104", "info", "go build without -trimpath",
         "-trimpath replaces absolute source paths with module paths. It makes builds reproducible across "
         "machines and checkouts, and trims a little. Checked only on binaries that reach the final image.",
         missing_trimpath),
    Rule("SG105", "warning", "apk add without --no-cache",
         "Without --no-cache, apk keeps /var/cache/apk in the layer. Info only in stages that are not shipped.",
         apk_without_no_cache, fixable=True),
    Rule("SG106", "warning", "apt-get install without list cleanup",
         "apt's package lists (/var/lib/apt/lists, tens of MiB) stay in the layer unless they are removed in "
         "the same RUN. Info only in stages that are not shipped.", apt_without_cleanup),
    Rule("SG107", "warning", "upx for arm64 or PIE targets",
         "UPX has documented failures with Go binaries on arm64 (crashes with large environments: "
         "upx/upx#443, #743, #952) and on -buildmode=pie (CantPackException). In a multi-platform build, "
         "UPX without an architecture guard packs the arm64 binary too.", upx_risky_targets),
    Rule("SG108", "error", "binary modified after upx",
         "UPX checks its packed file at start-up. Stripping or editing it afterwards breaks it, and UPX "
         "documents exit code 127 for a file modified after compression. Strip first, then pack.",
         modified_after_upx),
    Rule("SG109", "warning", "source tree copied into the final image",
         "COPY --from=builder of the directory that received `COPY . .` ships the sources, .git and test data, "
         "not just the binary.", source_tree_shipped),
    Rule("SG110", "info", "alpine runtime for a static binary",
         "A CGO_ENABLED=0 binary needs no libc and no shell. If the final stage runs nothing on alpine, "
         "distroless/static or scratch is smaller and leaves no shell or package manager in the image.",
         alpine_for_static),
]
