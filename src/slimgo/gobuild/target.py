"""What to build: a main package in a local module, or `module/path/cmd/x@version` via the module proxy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from .toolchain import Toolchain, run_go

_REMOTE = re.compile(r"^(?P<pkg>[a-zA-Z0-9][\w.\-~/]*\.[\w.\-~/]*)@(?P<version>[\w.\-+]+)$")


@dataclass(frozen=True)
class Target:
    """A resolved main package.

    `package` is the import path; `module_root` is where `.slimgo.yaml` is looked for (None for remote
    targets: their config cannot be trusted to exist, and go install ignores their replace directives too).
    """

    package: str
    name: str
    version: str | None = None  # set for module@version targets
    package_dir: Path | None = None
    module_root: Path | None = None
    module_path: str = ""

    @property
    def remote(self) -> bool:
        return self.version is not None

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}" if self.remote else str(self.package_dir)


def resolve(spec: str, toolchain: Toolchain) -> Target:
    m = _REMOTE.match(spec)
    if m and not Path(spec).exists():
        pkg = m.group("pkg").rstrip("/")
        return Target(package=pkg, name=_binary_name(pkg), version=m.group("version"))
    return _resolve_local(Path(spec), toolchain)


def _binary_name(pkg: str) -> str:
    """The name `go build` gives: the last element, skipping a major-version suffix like /v2."""
    parts = [p for p in pkg.split("/") if p]
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        return parts[-2]
    return parts[-1]


def _resolve_local(path: Path, toolchain: Toolchain) -> Target:
    if not path.exists():
        raise BadInput(f"{path}: no such directory (give a main package directory or module/path@version)")
    if not path.is_dir():
        raise BadInput(f"{path}: not a directory (give a main package directory or module/path@version)")
    path = path.resolve()
    env = toolchain.env("GOMOD", cwd=path)
    gomod = env.get("GOMOD", "")
    if not gomod or gomod == "/dev/null" or gomod == "NUL":
        raise BadInput(f"{path}: not inside a Go module (no go.mod found)")
    # -e: a package that does not compile still resolves; the compile error belongs to the build (exit 1).
    fmt = "{{.Name}}\t{{.ImportPath}}\t{{with .Module}}{{.Path}}{{end}}\t{{with .Error}}{{.Err}}{{end}}"
    out = run_go(toolchain.go, ["list", "-e", "-f", fmt, "."], cwd=path)
    name, import_path, module_path, error = (out.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
    if not name:
        raise BadInput(f"{path}: no Go package here ({error.splitlines()[0] if error else 'no Go files'})")
    if name != "main":
        raise BadInput(f"{path}: package {import_path} is not a main package (package {name})")
    return Target(package=import_path, name=_binary_name(import_path), package_dir=path,
                  module_root=Path(gomod).parent, module_path=module_path)
