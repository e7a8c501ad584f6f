"""`.slimgo.yaml` at the Go module root. Flags on the command line win over the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .errors import BadInput

CONFIG_NAME = ".slimgo.yaml"

_BUILD_KEYS: dict[str, type | tuple[type, ...]] = {
    "ldflags": str, "gcflags": str, "tags": list, "env": (dict, list), "base": str, "user": str,
    "platforms": list, "compression": str, "compression_level": int, "data": str,
}


@dataclass
class BuildConfig:
    """The build keys, from `.slimgo.yaml` or the command line; None means "not said here"."""

    ldflags: str | None = None
    gcflags: str | None = None
    tags: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    base: str | None = None
    user: str | None = None
    platforms: list[str] | None = None
    compression: str | None = None
    compression_level: int | None = None
    data: str | None = None

    def overlay(self, top: "BuildConfig") -> "BuildConfig":
        """This config with every key that `top` sets taken from `top` (env is merged, top wins)."""
        merged = BuildConfig(**{k: v for k, v in vars(self).items()})
        for key, value in vars(top).items():
            if key == "env":
                merged.env = {**self.env, **top.env}
            elif value is not None:
                setattr(merged, key, value)
        return merged


@dataclass
class Config:
    path: Path | None = None
    build: BuildConfig = field(default_factory=BuildConfig)
    lint: dict[str, Any] = field(default_factory=dict)
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)


def parse_env(items: list[str] | dict[str, Any], where: str) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not key:
            raise BadInput(f"{where}: environment entry {item!r} is not KEY=VALUE")
        env[key] = value
    return env


def load(module_root: Path | None) -> Config:
    if module_root is None:
        return Config()
    path = module_root / CONFIG_NAME
    if not path.is_file():
        return Config()
    import yaml  # imported here: commands that never read the config should not pay for it

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{path}: invalid YAML{where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read ({exc})") from None
    if doc is None:
        return Config(path=path)
    if not isinstance(doc, dict):
        raise BadInput(f"{path}: expected a mapping at the top level")
    unknown = set(doc) - {"build", "lint", "strategies"}
    if unknown:
        raise BadInput(f"{path}: unknown key {sorted(unknown)[0]!r} (known: build, lint, strategies)")
    cfg = Config(path=path)
    build = doc.get("build") or {}
    if not isinstance(build, dict):
        raise BadInput(f"{path}: 'build' must be a mapping")
    for key, value in build.items():
        expected = _BUILD_KEYS.get(key)
        if expected is None:
            raise BadInput(f"{path}: unknown build key {key!r} (known: {', '.join(sorted(_BUILD_KEYS))})")
        if not isinstance(value, expected) or isinstance(value, bool):
            raise BadInput(f"{path}: build.{key} has the wrong type ({type(value).__name__})")
        if key == "env":
            cfg.build.env = parse_env(cast("list[str] | dict[str, Any]", value), f"{path}: build.env")
        elif key in ("tags", "platforms"):
            setattr(cfg.build, key, [str(v) for v in cast(list[Any], value)])
        else:
            setattr(cfg.build, key, value)
    for section in ("lint", "strategies"):
        value = doc.get(section) or {}
        if not isinstance(value, dict):
            raise BadInput(f"{path}: '{section}' must be a mapping")
        setattr(cfg, section, value)
    return cfg
