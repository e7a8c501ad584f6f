"""Editor and CLI configurations that attach to a debug image, with the source path mapping it needs.

A `-trimpath` binary records `module/path@version/file.go` (or `module/path/file.go` for the main module
built from a checkout, and `net/http/server.go` for the standard library) instead of file-system paths.
Delve maps paths with `substitutePath` rules, tried in order: a rule is a local directory and the prefix
the binary records; an empty prefix stands for every relative path, which is how standard-library files
reach the local GOROOT/src. Rules are ordered longest recorded prefix first, so a nested module wins over
its parent and the standard-library catch-all comes last.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..binary.buildinfo import BuildInfo, Module
from ..fsutil import write_bytes
from .image import PORT

LAUNCH_JSON = "launch.json"
DLV_INIT = "dlv-init"


@dataclass(frozen=True)
class PathRule:
    local: str  # a directory on the developer's machine
    remote: str  # the prefix the binary records; "" is every relative path (the standard library)


def escape_module_path(path: str) -> str:
    """The module cache's case encoding: an upper-case letter becomes '!' and its lower case."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def _cached(gomodcache: str, path: str, version: str) -> str:
    return f"{gomodcache}/{escape_module_path(path)}@{version}"


def _dep_rule(dep: Module, module_root: Path | None, gomodcache: str) -> PathRule | None:
    if not dep.version:
        return None
    remote = f"{dep.path}@{dep.version}"
    rep = dep.replace
    if rep is None:
        return PathRule(_cached(gomodcache, dep.path, dep.version), remote)
    if rep.version:
        return PathRule(_cached(gomodcache, rep.path, rep.version), remote)
    local = Path(rep.path)
    if not local.is_absolute():
        if module_root is None:
            return None  # a directory replacement inside a remote module: its files are not on this machine
        local = (module_root / local).resolve()
    return PathRule(str(local), remote)


def path_rules(info: BuildInfo | None, *, trimpath: bool, module_root: Path | None, goroot: str,
               gomodcache: str) -> tuple[PathRule, ...]:
    """Without -trimpath the binary records this machine's real paths: no mapping is needed."""
    if not trimpath or info is None:
        return ()
    rules: list[PathRule] = []
    main = info.main
    if main is not None:
        if module_root is not None:
            rules.append(PathRule(str(module_root), main.path))
        elif main.version and main.version != "(devel)":
            rules.append(PathRule(_cached(gomodcache, main.path, main.version), f"{main.path}@{main.version}"))
    rules += [r for r in (_dep_rule(d, module_root, gomodcache) for d in info.deps) if r is not None]
    rules.sort(key=lambda r: -len(r.remote))
    rules.append(PathRule(f"{goroot.rstrip('/')}/src", ""))
    return tuple(rules)


@dataclass(frozen=True)
class ClientConfig:
    name: str
    rules: tuple[PathRule, ...]
    host: str = "127.0.0.1"
    port: int = PORT

    def launch_json(self) -> dict[str, Any]:
        """VS Code (Go extension): attach to a headless Delve that is already running (`mode: remote`)."""
        conf: dict[str, Any] = {"name": f"Attach to {self.name} (slimgo debug image)", "type": "go",
                                "request": "attach", "mode": "remote", "host": self.host, "port": self.port}
        if self.rules:
            conf["substitutePath"] = [{"from": r.local, "to": r.remote} for r in self.rules]
        return {"version": "0.2.0", "configurations": [conf]}

    def dlv_init(self) -> str:
        """Commands for `dlv connect --init`: the terminal client maps recorded paths to local ones."""
        return "".join(f"config substitute-path {_quote(r.remote)} {_quote(r.local)}\n" for r in self.rules)

    def dlv_connect(self, init: str | None = None) -> str:
        cmd = f"dlv connect {self.host}:{self.port}"
        return f"{cmd} --init {shlex.quote(init)}" if init and self.rules else cmd

    def docker_run(self, image: str) -> str:
        return f"docker run --rm -p {self.host}:{self.port}:{self.port} {image}"

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        launch = directory / LAUNCH_JSON
        write_bytes(launch, (json.dumps(self.launch_json(), indent=2) + "\n").encode())
        written = [launch]
        if self.rules:
            write_bytes(directory / DLV_INIT, self.dlv_init().encode())
            written.append(directory / DLV_INIT)
        return written


def _quote(value: str) -> str:
    """Delve's command line takes double-quoted arguments; "" is the empty (relative-path) prefix."""
    return json.dumps(value)
