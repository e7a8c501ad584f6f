"""SG4xx: Go build settings that produce binaries which will not run where they are copied."""

from __future__ import annotations

import re
from typing import Iterator

from .model import Context, GoBuild, Hit, Rule, commands, go_build_commands, libc_of_image, runs, shipped_builds

C_COMPILER = re.compile(r"\b(gcc|build-base|build-essential|clang|musl-dev|g\+\+|libc6-dev|zig)\b")


def _cgo_on(ctx: Context, b: GoBuild) -> bool:
    """Whether the build links libc: cgo on, and a C compiler present (Go turns cgo off without one)."""
    if b.env.get("CGO_ENABLED") == "0":
        return False
    if b.env.get("CGO_ENABLED") == "1":
        return True
    builder = ctx.root_image(b.stage)
    if libc_of_image(builder) == "musl":  # golang:*-alpine ships no gcc unless the Dockerfile adds one
        return ctx.memo(("c_compiler", b.stage.index),
                        lambda: any(C_COMPILER.search(i.script()) for s in ctx.stage_chain(b.stage) for i in runs(s)))
    return libc_of_image(builder) == "glibc" or "golang" in builder


def _static_link(b: GoBuild) -> bool:
    flags = " ".join(b.flag_values("ldflags"))
    tags = " ".join(b.flag_values("tags"))
    return "-static" in flags or ("netgo" in tags and "osusergo" in tags)


def cgo_into_static(ctx: Context) -> Iterator[Hit]:
    final = ctx.df.final
    if final is None:
        return
    runtime = ctx.root_image(final)
    runtime_libc = libc_of_image(runtime)
    if runtime_libc not in ("none", "musl"):
        return
    for b in shipped_builds(ctx):
        if b.stage.index == final.index or not _cgo_on(ctx, b) or _static_link(b):
            continue
        builder = ctx.root_image(b.stage)
        builder_libc = libc_of_image(builder)
        if runtime_libc == "none":
            yield b.inst, f"Go binary built with cgo on ({builder} has a C compiler) is copied into {runtime!r}, " \
                "which has no libc: it fails with 'no such file or directory'", \
                "set CGO_ENABLED=0 for the build (ENV CGO_ENABLED=0 or in the RUN)"
        elif builder_libc == "glibc":
            yield b.inst, f"Go binary linked against glibc ({builder}) is copied into {runtime!r} (musl): it " \
                "fails with 'no such file or directory' or symbol errors", \
                "set CGO_ENABLED=0, or build on golang:*-alpine, or use a glibc runtime (distroless/base)"


def _wraps_cross(ctx: Context, b: GoBuild) -> bool:
    """xx-go (tonistiigi/xx) sets GOOS/GOARCH from TARGETPLATFORM; so does `xx-go --wrap`."""
    if b.words[0].endswith("xx-go"):
        return True
    return ctx.memo(("xx_wrap", b.stage.index),
                    lambda: any(w[:2] == ["xx-go", "--wrap"] for s in ctx.stage_chain(b.stage) for i in runs(s)
                                if "xx-go" in i.script() for w in commands(i.script())))


def cross_without_goarch(ctx: Context) -> Iterator[Hit]:
    shipped = {id(b.inst) for b in shipped_builds(ctx)}
    for stage in ctx.df.stages:
        if not stage.platform or "BUILDPLATFORM" not in stage.platform:
            continue
        for b in go_build_commands(ctx, stage):
            if id(b.inst) not in shipped or b.remote_tool:
                continue  # a tool for the build itself must stay native to the build host
            script = b.inst.script()
            has = [k in script or k in b.env for k in ("GOARCH", "GOOS")]
            if all(has) or "TARGETPLATFORM" in script or "TARGETARCH" in script and has[0] or _wraps_cross(ctx, b):
                continue
            yield b.inst, "stage runs on $BUILDPLATFORM but go build sets no GOOS/GOARCH: " \
                "--platform builds get binaries for the build machine", \
                "ARG TARGETOS TARGETARCH, then GOOS=$TARGETOS GOARCH=$TARGETARCH go build …"


RULES = [
    Rule("SG401", "error", "cgo binary copied where its libc is missing",
         "With cgo on (the default when a C compiler is present, as in golang images), packages like net and "
         "os/user link libc dynamically. Scratch and distroless/static have no ELF interpreter, and alpine has "
         "musl, not glibc, so the binary fails with a misleading 'no such file or directory'. Quiet for "
         "distroless/base (glibc), alpine builders without gcc, and static links.", cgo_into_static),
    Rule("SG402", "warning", "cross build without GOOS/GOARCH",
         "FROM --platform=$BUILDPLATFORM runs the compiler natively. Without GOOS=$TARGETOS "
         "GOARCH=$TARGETARCH (or xx-go), every platform of a multi-platform build gets the build machine's "
         "binary. Only binaries that reach the final image are checked: build tools stay native.",
         cross_without_goarch),
]
