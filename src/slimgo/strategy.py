"""Build strategies as plain data.

`slimgo build`, `slimgo compare` and `slimgo dockerfile` share this vocabulary so that the image slimgo
builds, the ladder it measures and the Dockerfile it writes say the same thing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

DEFAULT_LDFLAGS = "-s -w"


@dataclass(frozen=True)
class GoFlags:
    """Everything that decides the bytes `go build` produces, besides the source and the toolchain."""

    cgo: bool | None = False  # None: as the environment gives it (plain `go build`)
    trimpath: bool = True
    ldflags: str = DEFAULT_LDFLAGS
    gcflags: str = ""
    tags: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # user's extra environment, sorted for stable keys

    def with_user(self, *, ldflags: str | None = None, gcflags: str | None = None,
                  tags: tuple[str, ...] | None = None, env: dict[str, str] | None = None) -> "GoFlags":
        """Add the user's flags. User ldflags go after ours, so the linker's last-wins rule lets them
        override ours (`-s=false`) and add to them (`-X main.version=1`)."""
        merged_env = dict(self.env)
        merged_env.update(env or {})
        cgo = self.cgo
        if "CGO_ENABLED" in merged_env:
            cgo = merged_env.pop("CGO_ENABLED") == "1"
        return replace(
            self,
            cgo=cgo,
            ldflags=" ".join(x for x in (self.ldflags, ldflags or "") if x),
            gcflags=gcflags if gcflags is not None else self.gcflags,
            tags=tuple(tags) if tags is not None else self.tags,
            env=tuple(sorted(merged_env.items())),
        )

    def go_args(self) -> list[str]:
        args: list[str] = []
        if self.trimpath:
            args.append("-trimpath")
        if self.ldflags:
            args.append(f"-ldflags={self.ldflags}")
        if self.gcflags:
            args.append(f"-gcflags={self.gcflags}")
        if self.tags:
            args.append(f"-tags={','.join(self.tags)}")
        return args

    def go_env(self) -> dict[str, str]:
        env = dict(self.env)
        if self.cgo is not None:
            env["CGO_ENABLED"] = "1" if self.cgo else "0"
        return env

    def command_line(self) -> str:
        """The equivalent shell command, for reports and Dockerfiles."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.go_env().items()))
        args = " ".join(shlex.quote(a) for a in self.go_args())
        return " ".join(x for x in (env, "go build", args) if x)


POST_STEPS = ("strip", "upx")  # in the order they run: UPX last, nothing may modify a packed file


@dataclass(frozen=True)
class Strategy:
    """A named way to build: how to compile, what to do to the binary after, how to package it.

    The ladder `slimgo compare` measures is a list of these; `slimgo build` runs DEFAULT (plus the user's
    flags) and `slimgo dockerfile` writes DEFAULT's flags, so a verdict translates into either one.
    """

    name: str
    description: str
    flags: GoFlags
    post: tuple[str, ...] = ()  # steps of POST_STEPS, applied in that order
    base: str = "static"  # static | static-full | scratch
    compression: str = "gzip"
    level: int | None = None
    baseline: bool = False  # ships GOROOT, module cache and sources too (a single-stage `FROM golang`)

    def build_command(self, target: str) -> str:
        parts = ["slimgo build", target]
        extra_ld = self.flags.ldflags.replace(DEFAULT_LDFLAGS, "").strip()
        if extra_ld:
            parts.append(f"--ldflags '{extra_ld}'")
        if self.base != "static":
            parts.append(f"--base {self.base}")
        if self.compression != "gzip":
            parts.append(f"--compression {self.compression}")
            if self.level is not None:
                parts.append(f"--compression-level {self.level}")
        return " ".join(parts)

    def dockerfile_flags(self) -> str:
        env = "CGO_ENABLED=0 " if self.flags.cgo is False else ""
        args = " ".join(a if " " not in a else a.replace("=", '="', 1) + '"' for a in self.flags.go_args())
        post = "".join(f" && {p}" for p in self.post_commands("/out/app"))
        return f"{env}go build {args} -o /out/app .{post}".replace("  ", " ")

    def post_commands(self, path: str) -> list[str]:
        commands = {"strip": f"strip --strip-all {path}", "upx": f"upx --best --lzma {path}"}
        return [commands[step] for step in POST_STEPS if step in self.post]


DEFAULT = Strategy("ldflags-sw", "CGO_ENABLED=0 -trimpath -ldflags \"-s -w\" (slimgo's default)", GoFlags())
PLAIN = Strategy("default", "plain `go build` (cgo as the environment gives it), binary alone",
                 GoFlags(cgo=None, trimpath=False, ldflags=""))
