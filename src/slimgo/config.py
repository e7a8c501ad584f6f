"""`.slimgo.yaml` at the Go module root. Flags on the command line win over the file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .errors import BadInput

CONFIG_NAME = ".slimgo.yaml"
CONFIG_NAMES = (CONFIG_NAME, ".slimgo.yml")  # both spellings are read; having both is refused
PLATFORM_ENV = ("GOOS", "GOARCH", "GOARM", "GOARM64", "GO386", "GOAMD64")
MAX_ID = 2**31 - 1  # what the kernel and container runtimes accept as a uid or gid
_NAME = re.compile(r"^[a-z_][a-z0-9_.-]*\$?$", re.I)

_BUILD_KEYS: dict[str, type | tuple[type, ...]] = {
    "ldflags": str, "gcflags": str, "tags": list, "env": (dict, list), "base": str, "user": str,
    "platforms": (list, str), "compression": str, "compression_level": int,
    "compression_library": str, "data": str,
    "debug": bool, "debug_continue": bool, "delve_version": str, "trimpath": bool, "upx": bool, "upx_args": str,
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
    compression_library: str | None = None  # gzip only: zlib (default), zlib-ng, isal or libdeflate
    data: str | None = None
    debug: bool | None = None
    debug_continue: bool | None = None
    delve_version: str | None = None
    trimpath: bool | None = None
    upx: bool | None = None
    upx_args: str | None = None

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
    inspect: dict[str, Any] = field(default_factory=dict)


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


def check_user(value: str, where: str = "--user") -> str:
    """UID[:GID] with ids in 0..2^31-1, or NAME[:GROUP]; anything else (like -5) no engine would run."""
    parts = value.split(":")
    if len(parts) > 2 or not all(parts):
        raise BadInput(f"{where} {value!r}: expected UID[:GID] or NAME[:GROUP]")
    for part in parts:
        if part.lstrip("+-").isdigit():
            if not part.isdigit() or int(part) > MAX_ID:
                raise BadInput(f"{where} {value!r}: {part} is not a valid id (0 to {MAX_ID})")
        elif not _NAME.match(part):
            raise BadInput(f"{where} {value!r}: {part!r} is neither a numeric id nor a user or group name")
    return value


def check_data_dir(path: Path, where: str = "--data") -> Path:
    if not path.exists():
        raise BadInput(f"{where} {path}: no such directory")
    if not path.is_dir():
        raise BadInput(f"{where} {path}: is a file; --data takes a directory (its files go to /app/data)")
    return path


def platform_from_env(env: dict[str, str], platforms: list[str] | None,
                      where: str = "--env") -> tuple[dict[str, str], list[str] | None]:
    """GOOS/GOARCH/GOARM in the build environment become the platform, so that the binary, the image
    config and the summary agree. With --platform also given, or for an OS other than linux, refused."""
    given = {k: env[k] for k in PLATFORM_ENV if k in env}
    if not given or set(given) <= {"GOAMD64", "GOARM64", "GO386"}:
        return env, platforms
    said = " ".join(f"{k}={v}" for k, v in given.items())
    if platforms is not None:
        raise BadInput(f"{where} {said} conflicts with --platform/build.platforms: set the platform only there")
    goos = given.get("GOOS", "linux")
    if goos != "linux":
        raise BadInput(f"{where} {said}: slimgo builds Linux images; use --platform linux/ARCH")
    if "GOARCH" not in given:
        raise BadInput(f"{where} {said}: give the platform as --platform linux/ARCH[/vN] instead")
    variant = f"/v{given['GOARM']}" if "GOARM" in given and given["GOARCH"] == "arm" else ""
    rest = {k: v for k, v in env.items() if k not in ("GOOS", "GOARCH", "GOARM")}
    return rest, [f"linux/{given['GOARCH']}{variant}"]


def config_path(module_root: Path) -> Path | None:
    found = [module_root / n for n in CONFIG_NAMES if (module_root / n).is_file()]
    if len(found) > 1:
        raise BadInput(f"{module_root}: both {CONFIG_NAMES[0]} and {CONFIG_NAMES[1]} exist; keep one")
    return found[0] if found else None


def _yaml_where(exc: Exception) -> str:
    """Where the parser stopped and why, and where the construct it was in began: an unclosed `[` is found
    at the end of the file, one line or more after the line that needs the fix."""
    mark, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    problem, what = getattr(exc, "problem", None), getattr(exc, "context", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    if problem:
        where += f": {problem}"
    if context is not None and what and (mark is None or context.line != mark.line):
        where += f" ({what} from line {context.line + 1})"
    return where


def load(module_root: Path | None) -> Config:
    if module_root is None:
        return Config()
    path = config_path(module_root)
    if path is None:
        return Config()
    import yaml  # imported here: commands that never read the config should not pay for it

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: invalid YAML{_yaml_where(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read ({exc})") from None
    if doc is None:
        return Config(path=path)
    if not isinstance(doc, dict):
        raise BadInput(f"{path}: expected a mapping at the top level")
    unknown = set(doc) - {"build", "lint", "strategies", "inspect"}
    if unknown:
        raise BadInput(f"{path}: unknown key {sorted(unknown)[0]!r} (known: build, lint, strategies, inspect)")
    cfg = Config(path=path)
    build = doc.get("build") or {}
    if not isinstance(build, dict):
        raise BadInput(f"{path}: 'build' must be a mapping")
    for key, value in build.items():
        expected = _BUILD_KEYS.get(key)
        if expected is None:
            raise BadInput(f"{path}: unknown build key {key!r} (known: {', '.join(sorted(_BUILD_KEYS))})")
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise BadInput(f"{path}: build.{key} has the wrong type ({type(value).__name__})")
        if key == "env":
            cfg.build.env = parse_env(cast("list[str] | dict[str, Any]", value), f"{path}: build.env")
        elif key == "platforms" and isinstance(value, str):  # "linux/amd64,linux/arm64", as --platform takes
            cfg.build.platforms = [p.strip() for p in value.split(",") if p.strip()]
        elif key == "user":
            cfg.build.user = check_user(str(value), f"{path}: build.user")
        elif key in ("tags", "platforms"):
            setattr(cfg.build, key, [str(v) for v in cast(list[Any], value)])
        else:
            setattr(cfg.build, key, value)
    for section in ("lint", "strategies", "inspect"):
        value = doc.get(section) or {}
        if not isinstance(value, dict):
            raise BadInput(f"{path}: '{section}' must be a mapping")
        setattr(cfg, section, value)
    return cfg
