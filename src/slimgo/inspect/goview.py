"""Every Go binary in the final filesystem: toolchain, main module, dependencies and how it was built.

Build flags come from the build info Go embeds (`go version -m`); `-s -w` is also read from the file
itself (no .symtab, no DWARF), since `-ldflags` may be absent from the build info of a trimmed build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .fs import FileSystem
from .model import FILE, ImageScan

DEBUG_GCFLAGS = re.compile(r"(^|\s|=)-N(\s|$)|(^|\s|=)-l(\s|$)")


@dataclass
class GoBinary:
    path: str
    go_version: str
    main_package: str
    main_module: str
    main_version: str
    deps: list[tuple[str, str]]
    trimpath: bool
    stripped: bool  # -s -w: no symbol table and no DWARF
    cgo: bool
    debug: bool  # optimisations or inlining off (-gcflags all=-N -l), with DWARF kept
    ldflags: str
    gcflags: str
    needs: dict[str, bool] | None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "go_version": self.go_version, "main_package": self.main_package,
                "main_module": self.main_module, "main_version": self.main_version,
                "dependencies": [{"path": p, "version": v} for p, v in self.deps],
                "trimpath": self.trimpath, "stripped": self.stripped, "cgo": self.cgo, "debug": self.debug,
                "ldflags": self.ldflags, "gcflags": self.gcflags, "needs": self.needs}


def go_binaries(scan: ImageScan, fs: FileSystem) -> list[GoBinary]:
    out = []
    for path, e in sorted(fs.entries.items()):
        if e.kind != FILE:
            continue
        info = scan.layers[e.layer].elfs.get(path)
        if info is None or info.go is None:
            continue
        g = info.go
        settings = dict(g.settings)
        gcflags = settings.get("-gcflags", "")
        out.append(GoBinary(
            path=path, go_version=g.go_version, main_package=g.main_package, main_module=g.main_module,
            main_version=g.main_version, deps=list(g.deps), trimpath=settings.get("-trimpath") == "true",
            stripped=info.stripped_symbols and info.stripped_dwarf, cgo=settings.get("CGO_ENABLED") == "1",
            debug=bool(DEBUG_GCFLAGS.search(gcflags)), ldflags=settings.get("-ldflags", ""), gcflags=gcflags,
            needs=g.needs))
    return out
