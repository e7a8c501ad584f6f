"""The ladder of strategies `slimgo compare` measures. Names are part of the JSON contract."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import BadInput
from ..strategy import DEFAULT, DEFAULT_LDFLAGS, PLAIN, POST_STEPS, GoFlags, Strategy


def ladder() -> list[Strategy]:
    cgo_off = GoFlags(cgo=False, trimpath=False, ldflags="")
    trimpath = replace(cgo_off, trimpath=True)
    sw = DEFAULT.flags  # slimgo's default: CGO_ENABLED=0 -trimpath -ldflags "-s -w"
    return [
        replace(PLAIN, name="baseline", baseline=True,
                description="single-stage `FROM golang`: toolchain, module cache, sources and a plain build"),
        PLAIN,
        Strategy("cgo-off", "CGO_ENABLED=0", cgo_off),
        Strategy("trimpath", "CGO_ENABLED=0 -trimpath", trimpath),
        DEFAULT,
        Strategy("strip", "binutils strip --strip-all on the trimpath binary instead of -s -w", trimpath,
                 post=("strip",)),
        Strategy("scratch", "the ldflags-sw binary with no base files", sw, base="scratch"),
        Strategy("zstd", "ldflags-sw with zstd level 19 layers", sw, compression="zstd", level=19),
        Strategy("upx", "ldflags-sw then upx --best --lzma", sw, post=("upx",)),
    ]


def from_config(name: str, doc: dict[str, Any], where: str) -> Strategy:
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
    post = tuple(p for p in POST_STEPS if doc.get(p))
    base = str(doc.get("base", "static"))
    if base not in ("static", "scratch", "static-full"):
        raise BadInput(f"{where}: strategies.{name}.base must be static, static-full or scratch")
    return Strategy(name, str(doc.get("description", f"user strategy {name}")), flags, post, base,
                       str(doc.get("compression", "gzip")), doc.get("compression_level"))


def select(specs: list[Strategy], wanted: str | None) -> list[Strategy]:
    if not wanted:
        return specs
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    by_name = {s.name: s for s in specs}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise BadInput(f"unknown strategy {missing[0]!r} (known: {', '.join(by_name)})")
    return [by_name[n] for n in names]
