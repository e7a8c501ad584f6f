"""What to build: a main package in a local module, or `module/path/cmd/x@version` via the module proxy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from .toolchain import FACTS, EarlyAnswers, Toolchain, go_path, run_go

_REMOTE = re.compile(r"^(?P<pkg>[a-zA-Z0-9][\w.\-~/]*\.[\w.\-~/]*)@(?P<version>[\w.\-+]+)$")
# -e: a package that does not compile still resolves; the compile error belongs to the build (exit 1).
# -find: only the package itself, not its import graph (about 0.1 s less before `go build` can start).
_LIST = ["list", "-find", "-e", "-f", "{{.Name}}\t{{.ImportPath}}\t{{with .Module}}{{.Path}}{{end}}\t"
         "{{with .Module}}{{.GoMod}}{{end}}\t{{with .Error}}{{.Err}}{{end}}", "."]


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


def resolve(spec: str, toolchain: Toolchain, early: EarlyAnswers | None = None) -> Target:
    m = _REMOTE.match(spec)
    if m and not Path(spec).exists():
        pkg = m.group("pkg").rstrip("/")
        return Target(package=pkg, name=binary_name(pkg), version=m.group("version"))
    return _resolve_local(Path(spec), toolchain, early)


def ask_early(spec: str, go: str | None = None, remember: bool = False) -> EarlyAnswers:
    """Start the queries `find_toolchain` and `resolve` will make for this target (see EarlyAnswers).
    `remember`: `go list`'s answer may come from, and go to, slimgo's cache (gobuild/listing.py)."""
    early = EarlyAnswers()
    candidate = go_path(go)
    if candidate:
        early.start(candidate, ["env", "-json", *FACTS])
        path = Path(spec)
        try:
            if path.is_dir() and remember:
                early.start_or_recall(candidate, _LIST, path.resolve())
            elif path.is_dir():
                early.start(candidate, _LIST, path.resolve())
        except OSError:  # a relative target in a directory that is gone: the build says so (cli)
            pass
    return early


def binary_name(pkg: str) -> str:
    """The name `go build` gives: the last element, skipping a major-version suffix like /v2."""
    parts = [p for p in pkg.split("/") if p]
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        return parts[-2]
    return parts[-1]


def go_output_name(pkg: str) -> str:
    """The file `go build -o DIR/` writes for a main package (cmd/go's DefaultExecName): the last element,
    or the one before it when the last is a major version v2, v3… (v0, v1 and v02 stay, unlike binary_name's)."""
    parent, _, last = pkg.rstrip("/").rpartition("/")
    if parent and re.fullmatch(r"v[1-9][0-9]*", last) and last != "v1":
        return parent.rpartition("/")[2]
    return last


def _resolve_local(path: Path, toolchain: Toolchain, early: EarlyAnswers | None = None) -> Target:
    if not path.exists():
        raise BadInput(f"{path}: no such directory (give a main package directory or module/path@version)")
    if not path.is_dir():
        raise BadInput(f"{path}: not a directory (give a main package directory or module/path@version)")
    path = path.resolve()
    # One `go list` (not `go env GOMOD` and then `go list`): every go process costs a start-up before the build.
    if early is not None:
        early.check_recalled(toolchain.go, _LIST, path, toolchain.identity)
    out = list_in_module(toolchain.go, _LIST, path, path, early)
    name, import_path, module_path, gomod, error = (out.rstrip("\n").split("\t") + ["", "", "", "", ""])[:5]
    if not gomod:  # no package to name its module (no Go files, say): ask the way the error path always did
        gomod = toolchain.env("GOMOD", cwd=path).get("GOMOD", "")
    if not gomod or gomod == "/dev/null" or gomod == "NUL":
        raise outside_module(path)
    if not name:
        raise BadInput(f"{path}: no Go package here ({error.splitlines()[0] if error else 'no Go files'})")
    if name != "main":
        raise BadInput(f"{path}: package {import_path} is not a main package (package {name})")
    if early is not None and not error:
        early.keep(toolchain.go, _LIST, path, out, toolchain.identity)
    return local_target(path, import_path, module_path, gomod)


def outside_module(what: object) -> BadInput:
    return BadInput(f"{what}: not inside a Go module (no go.mod found)")


def list_in_module(go: str, args: list[str], cwd: Path, what: object, early: EarlyAnswers | None = None) -> str:
    """`go list` in cwd; Go's "go.mod file not found" becomes one line naming `what` (what the user gave)."""
    try:
        return run_go(go, args, cwd=cwd, early=early)
    except BadInput as exc:
        if "go.mod file not found" in str(exc):
            raise outside_module(what) from None
        raise


def local_target(package_dir: Path, import_path: str, module_path: str, gomod: str) -> Target:
    """A main package of a local module, from what `go list` said of it (here, or gobuild.packages)."""
    return Target(package=import_path, name=binary_name(import_path), package_dir=package_dir,
                  module_root=Path(gomod).parent, module_path=module_path)
