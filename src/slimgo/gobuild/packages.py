"""Which main packages a set of targets names: `./...`, `./cmd/...`, directories and import paths.

`go list` decides (build constraints, nested modules, vendoring), so slimgo never walks folders itself.
Packages that are not `main` are skipped, as `go build ./...` and ko do; so are folders with only tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from .target import _REMOTE, Target, list_in_module, local_target, outside_module
from .toolchain import Toolchain

_FORMAT = ("{{.Name}}\t{{.ImportPath}}\t{{.Dir}}\t{{len .GoFiles}}/{{len .CgoFiles}}\t{{with .Module}}{{.Path}}{{end}}\t"
           "{{with .Module}}{{.GoMod}}{{end}}\t{{with .Error}}{{.Err}}{{end}}")


@dataclass(frozen=True)
class MainPackage:
    import_path: str
    spec: str  # what `pipeline.build` takes: the package directory, or module/path@version
    # A local main package as `go list` described it: its build need not ask again (one `go list` a program),
    # and its module's programs compile together (gobuild/batch.py). None for module@version targets.
    target: Target | None = None


def is_pattern(target: str) -> bool:
    return target == "..." or target.endswith("/...")


def find_mains(targets: tuple[str, ...], toolchain: Toolchain, cwd: Path | None = None) -> list[MainPackage]:
    """Every main package the targets name, once each, in the order given (go list's order inside a pattern)."""
    found: dict[str, MainPackage] = {}
    for target in targets:
        for pkg in _expand(target, toolchain, cwd or Path.cwd()):
            found.setdefault(pkg.import_path, pkg)
    if not found:
        raise BadInput(f"no main package in {' '.join(targets)}")
    return list(found.values())


def _expand(target: str, toolchain: Toolchain, cwd: Path) -> list[MainPackage]:
    m = _REMOTE.match(target)
    if m and not Path(target).exists():
        return [MainPackage(m.group("pkg").rstrip("/"), target)]
    # A directory (with or without /...) is listed from inside it, so it works from any working directory.
    root, suffix = (target[:-4] or ".", "./...") if is_pattern(target) else (target, ".")
    where = cwd / root
    if not where.is_dir() and (root in (".", "..") or root.startswith(("./", "../", "/"))):
        raise BadInput(f"{target}: no such directory")  # a path, not an import path: go list would not say so
    pattern = suffix if where.is_dir() else target
    rows = list_in_module(toolchain.go, ["list", "-e", "-f", _FORMAT, pattern], where if where.is_dir() else cwd,
                          target)
    mains: list[MainPackage] = []
    for line in rows.splitlines():
        name, import_path, pkg_dir, go_files, module_path, gomod, error = (line.split("\t") + [""] * 7)[:7]
        if not name and import_path == pattern and error and is_pattern(target):
            # the pattern itself failed (a folder outside any module, say): go list -e gives one such row
            if where.is_dir() and not any((d / f).is_file() for d in (where.resolve(), *where.resolve().parents)
                                          for f in ("go.mod", "go.work")):  # go's own words for a workspace
                raise outside_module(target)
            raise BadInput(f"{target}: {error.splitlines()[0]}")
        # a main package whose files all import "C" has them in CgoFiles only: it is a program too (one that
        # fails alone, saying so, unless cgo is turned on), never skipped in silence
        if name == "main" and sum(int(n or 0) for n in go_files.split("/")) > 0:
            known = gomod and gomod not in ("/dev/null", "NUL")
            mains.append(MainPackage(import_path, pkg_dir, local_target(Path(pkg_dir).resolve(), import_path,
                                                                        module_path, gomod) if known else None))
        elif not is_pattern(target) and name:
            raise BadInput(f"{target}: not a main package (package {name})")
        elif not is_pattern(target) and name != "main":  # no package at all: go list's first line says why
            detail = error.splitlines()[0] if error else "no Go files"
            if "go.mod file not found" in detail:  # an import path, asked from outside any module
                detail = "the working directory is in no Go module; run slimgo from the module that holds it"
            elif detail.startswith("no required module provides package"):  # go's hint (`go get`) would mislead
                detail = "not in this module or its requirements; run slimgo from the module that holds it"
            raise BadInput(f"{target}: no such package ({detail})")
    return mains
