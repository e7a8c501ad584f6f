"""What a generated Dockerfile must know about the module it builds: the build context, the files
`go mod download` needs, the Go release to pin, and whether the program needs cgo.

The context is the smallest directory holding every local directory the build reads: the module, the
`go.work` workspace and its modules, and the targets of local `replace` directives. A Dockerfile whose
context is only the module cannot see `../lib`, and the build fails with "directory ../lib outside
main module or its selected dependencies" long after the user stopped watching.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..gobuild.toolchain import Toolchain, run_go

_TOOLCHAIN = re.compile(r"^toolchain\s+go(\d+\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?)\s*(?://.*)?$", re.MULTILINE)
_GO_LINE = re.compile(r"^go\s+(\d+)\.(\d+)(?:\.\d+|(?:rc|beta)\d+)?\s*(?://.*)?$", re.MULTILINE)
# Libraries glibc itself provides: a binary that needs only these runs on distroless/base.
GLIBC_LIBS = frozenset({"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                        "libresolv.so.2", "libutil.so.1"})
CXX_LIBS = frozenset({"libstdc++.so.6", "libgcc_s.so.1"})


@dataclass(frozen=True)
class GoRelease:
    version: str  # the builder image tag: 1.22.5 from a toolchain line, 1.22 from a go line
    source: str  # the directive it came from, for the generated header

    @classmethod
    def from_text(cls, text: str, where: str) -> GoRelease:
        """`toolchain go1.22.5` names the release the module is built with; the `go` line is only the
        minimum language version, and pinning its patch (1.21.0) would pin a release with known fixes
        missing, so it pins the minor (golang:1.21 follows that minor's patches)."""
        m = _TOOLCHAIN.search(text)
        if m:
            return cls(m.group(1), f"toolchain go{m.group(1)}")
        g = _GO_LINE.search(text)
        if not g:
            raise BadInput(f"{where}: no `go` directive to pin the builder to")
        return cls(f"{g.group(1)}.{g.group(2)}", f"go {g.group(1)}.{g.group(2)}")


@dataclass(frozen=True)
class ModuleFacts:
    root: Path  # the build context
    module_dir: str  # the main module, relative to root ("." when it is the root)
    package: str  # ./cmd/x relative to the module, or "."
    name: str
    go: GoRelease
    manifests: tuple[tuple[str, tuple[str, ...]], ...]  # (dir, files) relative to root, copied before download
    vendored: bool
    workspace: bool
    cgo_packages: tuple[str, ...] = ()  # non-standard packages that only build with cgo

    @property
    def go_version(self) -> str:
        return self.go.version


def _local(new_path: str) -> bool:
    return new_path.startswith(("./", "../", "/")) or new_path in (".", "..")


def _edit_json(toolchain: Toolchain, args: list[str], cwd: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(run_go(toolchain.go, args, cwd=cwd, env={"GOFLAGS": ""}))
    return doc


def _replace_dirs(doc: dict[str, Any], base: Path) -> list[Path]:
    out = []
    for rep in doc.get("Replace") or []:
        new = rep.get("New") or {}
        if new.get("Version") or not _local(new.get("Path", "")):
            continue
        target = (base / new["Path"]).resolve()
        if not (target / "go.mod").is_file():
            raise BadInput(f"{base / 'go.mod'}: replace {rep['Old']['Path']} => {new['Path']}: "
                           f"{target} has no go.mod (the build would fail the same way)")
        out.append(target)
    return out


def _manifests(root: Path, module_dirs: list[Path], work: Path | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    files: dict[str, list[str]] = {}
    if work is not None:
        rel = os.path.relpath(work.parent, root)
        files.setdefault(rel, []).extend(n for n in (work.name, work.name + ".sum") if (work.parent / n).is_file())
    for d in module_dirs:
        rel = os.path.relpath(d, root)
        names = files.setdefault(rel, [])
        names.extend(n for n in ("go.mod", "go.sum") if (d / n).is_file() and n not in names)
    return tuple((Path(k).as_posix(), tuple(v)) for k, v in files.items())


def module_facts(package_dir: Path, module_root: Path, name: str, toolchain: Toolchain, *,
                 with_cgo: bool = True) -> ModuleFacts:
    """with_cgo=False skips the two `go list -deps` runs that find cgo-only packages (a caller that
    refuses cgo builds anyway does not need them)."""
    module_root = module_root.resolve()
    env = toolchain.env("GOWORK", cwd=package_dir)
    gowork = env.get("GOWORK", "")
    work = Path(gowork).resolve() if gowork and gowork != "off" else None
    module_dirs = [module_root]
    local: list[Path] = []
    if work is not None:
        wdoc = _edit_json(toolchain, ["work", "edit", "-json", str(work)], work.parent)
        module_dirs += [(work.parent / u["DiskPath"]).resolve() for u in wdoc.get("Use") or []]
        local += _replace_dirs(wdoc, work.parent)
        go = GoRelease.from_text(work.read_text(encoding="utf-8"), str(work))
    else:
        go = GoRelease.from_text((module_root / "go.mod").read_text(encoding="utf-8"), str(module_root / "go.mod"))
    for d in list(dict.fromkeys(module_dirs)):
        local += _replace_dirs(_edit_json(toolchain, ["mod", "edit", "-json"], d), d)
    all_dirs = list(dict.fromkeys([*module_dirs, *local]))
    root = Path(os.path.commonpath([str(p) for p in [*all_dirs, *([work.parent] if work else [])]]))
    if root == Path(root.anchor):
        raise BadInput(f"{module_root}: the workspace and local replace directories share no directory but "
                       f"{root}, which cannot be a build context: vendor them (`go mod vendor`) or move them "
                       "under one directory")
    rel = package_dir.resolve().relative_to(module_root).as_posix()
    vendored = (module_root / "vendor" / "modules.txt").exists() if work is None else \
        (work.parent / "vendor" / "modules.txt").exists()
    return ModuleFacts(root=root, module_dir=Path(os.path.relpath(module_root, root)).as_posix(),
                       package="." if rel == "." else f"./{rel}", name=name, go=go,
                       manifests=_manifests(root, all_dirs, work), vendored=vendored, workspace=work is not None,
                       cgo_packages=cgo_packages(toolchain, package_dir) if with_cgo else ())


def cgo_packages(toolchain: Toolchain, package_dir: Path) -> tuple[str, ...]:
    """The non-standard packages of the program that do not build with cgo off: those with cgo files in
    a cgo build whose cgo-off build fails. Packages with a pure-Go fallback (`//go:build !cgo`) are not
    listed, so such programs keep the static CGO_ENABLED=0 build."""
    fmt = "{{if not .Standard}}{{.ImportPath}}\t{{len .CgoFiles}}\t{{if .Error}}error{{end}}{{end}}"

    def listing(cgo: str) -> dict[str, tuple[int, bool]]:
        out = run_go(toolchain.go, ["list", "-e", "-deps", "-f", fmt, "."], cwd=package_dir,
                     env={"CGO_ENABLED": cgo})
        rows = {}
        for line in out.splitlines():
            if line.strip():
                path, n, err = (line.split("\t") + ["", ""])[:3]
                rows[path] = (int(n or 0), err == "error")
        return rows
    with_cgo = {p for p, (n, _) in listing("1").items() if n}
    if not with_cgo:
        return ()
    # A package made only of cgo files has "build constraints exclude all Go files" with cgo off.
    broken = {p for p, (_, err) in listing("0").items() if err}
    return tuple(sorted(with_cgo & broken))
