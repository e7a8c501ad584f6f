"""Build strategies as plain data.

`slimgo build`, `slimgo compare` and `slimgo dockerfile` share this vocabulary so that the image slimgo
builds, the ladder it measures and the Dockerfile it writes say the same thing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace

DEFAULT_LDFLAGS = "-s -w -buildid="


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


@dataclass(frozen=True)
class Strategy:
    """A named rung of the ladder: how to compile, what to do to the binary, how to package it."""

    name: str
    flags: GoFlags
    description: str = ""
    strip: bool = False  # binutils strip --strip-all after the build
    upx: bool = False  # upx --best --lzma, always last: nothing may modify a packed file
    base: str = "static"
    compression: str = "gzip"
    compression_level: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


DEFAULT = Strategy("ldflags-sw", GoFlags(), "CGO_ENABLED=0 -trimpath -ldflags '-s -w' (slimgo's default)")
PLAIN = Strategy("default", GoFlags(cgo=None, trimpath=False, ldflags=""), "plain go build")
