"""SG4xx: Go build settings that produce binaries which will not run where they are copied."""

from __future__ import annotations

import re
from typing import Iterator

from ..parse import Instruction, Stage
from .base import Context, Rule, go_builds, kind_of_image

Where = tuple[Instruction | int, str, str]


def _cgo_off(ctx: Context, stage: Stage, inst: Instruction) -> bool:
    if re.search(r"CGO_ENABLED=(\"|')?0", inst.script()):
        return True
    return ctx.stage_env(stage).get("CGO_ENABLED") == "0"


def cgo_into_static(ctx: Context) -> Iterator[Where]:
    final = ctx.df.final
    if final is None or kind_of_image(ctx.root_image(final)) != "static":
        return
    for inst in final.instructions:
        src = inst.flags.get("from") if inst.keyword == "COPY" else None
        if not src:
            continue
        stage = ctx.df.stage_by_name(src)
        if stage is None:
            continue
        for build in go_builds(stage):
            if not _cgo_off(ctx, stage, build):
                base = ctx.root_image(stage)
                yield build, f"Go binary built without CGO_ENABLED=0 is copied into {ctx.root_image(final)!r}: " \
                    f"with cgo ({base} has a C compiler) it links libc and fails with 'no such file or directory'", \
                    "set CGO_ENABLED=0 for the build (ENV CGO_ENABLED=0 or in the RUN)"


def cross_without_goarch(ctx: Context) -> Iterator[Where]:
    for stage in ctx.df.stages:
        if not stage.platform or "BUILDPLATFORM" not in stage.platform:
            continue
        env = ctx.stage_env(stage)
        for build in go_builds(stage):
            script = build.script()
            if not ("GOARCH" in script or "GOARCH" in env) or not ("GOOS" in script or "GOOS" in env):
                yield build, "stage runs on $BUILDPLATFORM but go build sets no GOOS/GOARCH: " \
                    "--platform builds get binaries for the build machine", \
                    "ARG TARGETOS TARGETARCH, then GOOS=$TARGETOS GOARCH=$TARGETARCH go build …"


RULES = [
    Rule("SG401", "error", "cgo binary copied into scratch/distroless",
         "With cgo on (the default when a C compiler is present, as in golang images), packages like net and "
         "os/user link libc dynamically. Scratch and distroless/static have no ELF interpreter, so the "
         "binary fails with a misleading 'no such file or directory'.", cgo_into_static),
    Rule("SG402", "warning", "cross build without GOOS/GOARCH",
         "FROM --platform=$BUILDPLATFORM runs the compiler natively. Without GOOS=$TARGETOS "
         "GOARCH=$TARGETARCH, every platform of a multi-platform build gets the build machine's binary.",
         cross_without_goarch),
]
