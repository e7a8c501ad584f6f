"""The ladder of strategies `slimgo compare` measures. Names are part of the JSON contract."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..errors import BadInput
from ..strategy import DEFAULT_LDFLAGS, GoFlags

PLAIN = GoFlags(cgo=None, trimpath=False, ldflags="")


@dataclass(frozen=True)
class VariantSpec:
    name: str
    description: str
    flags: GoFlags
    post: tuple[str, ...] = ()  # "strip", "upx": applied in this order, UPX always last
    base: str = "static"  # static | scratch
    compression: str = "gzip"
    level: int | None = None
    baseline: bool = False  # ships GOROOT, module cache and sources too

    def build_command(self, target: str) -> str:
        parts = ["slimgo build", target]
        f = self.flags
        extra_ld = f.ldflags.replace(DEFAULT_LDFLAGS, "").strip()
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
        cmds = []
        if "strip" in self.post:
            cmds.append(f"strip --strip-all {path}")
        if "upx" in self.post:
            cmds.append(f"upx --best --lzma {path}")
        return cmds


def ladder() -> list[VariantSpec]:
    cgo_off = GoFlags(cgo=False, trimpath=False, ldflags="")
    trimpath = replace(cgo_off, trimpath=True)
    sw = GoFlags()  # slimgo's default: CGO_ENABLED=0 -trimpath -ldflags "-s -w -buildid="
    return [
        VariantSpec("baseline", "single-stage `FROM golang`: toolchain, module cache, sources and a plain build",
                    PLAIN, baseline=True),
        VariantSpec("default", "plain `go build` (cgo as the environment gives it), binary alone", PLAIN),
        VariantSpec("cgo-off", "CGO_ENABLED=0", cgo_off),
        VariantSpec("trimpath", "CGO_ENABLED=0 -trimpath", trimpath),
        VariantSpec("ldflags-sw", "CGO_ENABLED=0 -trimpath -ldflags \"-s -w\" (slimgo's default)", sw),
        VariantSpec("strip", "binutils strip --strip-all on the trimpath binary instead of -s -w", trimpath,
                    post=("strip",)),
        VariantSpec("scratch", "the ldflags-sw binary with no base files", sw, base="scratch"),
        VariantSpec("zstd", "ldflags-sw with zstd level 19 layers", sw, compression="zstd", level=19),
        VariantSpec("upx", "ldflags-sw then upx --best --lzma", sw, post=("upx",)),
    ]


def from_config(name: str, doc: dict[str, Any], where: str) -> VariantSpec:
    """A user strategy from `.slimgo.yaml` `strategies:`."""
    known = {"cgo", "trimpath", "ldflags", "gcflags", "tags", "strip", "upx", "base", "compression",
             "compression_level", "description"}
    if not isinstance(doc, dict):
        raise BadInput(f"{where}: strategies.{name} must be a mapping")
    unknown = set(doc) - known
    if unknown:
        raise BadInput(f"{where}: strategies.{name}: unknown key {sorted(unknown)[0]!r}")
    flags = GoFlags(cgo=doc.get("cgo", False), trimpath=bool(doc.get("trimpath", True)),
                    ldflags=str(doc.get("ldflags", DEFAULT_LDFLAGS)), gcflags=str(doc.get("gcflags", "")),
                    tags=tuple(doc.get("tags") or ()))
    post = tuple(p for p in ("strip", "upx") if doc.get(p))
    base = str(doc.get("base", "static"))
    if base not in ("static", "scratch", "static-full"):
        raise BadInput(f"{where}: strategies.{name}.base must be static, static-full or scratch")
    return VariantSpec(name, str(doc.get("description", f"user strategy {name}")), flags, post, base,
                       str(doc.get("compression", "gzip")), doc.get("compression_level"))


def select(specs: list[VariantSpec], wanted: str | None) -> list[VariantSpec]:
    if not wanted:
        return specs
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    by_name = {s.name: s for s in specs}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise BadInput(f"unknown strategy {missing[0]!r} (known: {', '.join(by_name)})")
    return [by_name[n] for n in names]
