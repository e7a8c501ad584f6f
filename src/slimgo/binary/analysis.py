"""One binary's analysis: sections, linking, build info, size by package, run-time needs, advice.

Sizes by package come from the ELF symbol table when present (exact st_size, code and data, as
`go tool nm -size` reports them); otherwise from the pclntab function table (code only, each function
counted to the next one's entry, so alignment padding is included). The source is reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BinaryFormatError
from ..report.units import human_bytes
from . import buildinfo, pclntab, symsizes, symtab
from . import elf as elf_mod
from . import needs as needs_mod
from . import sections as sections_mod
from .buildinfo import is_debug_build
from .needs import FunctionNames, NameSet, Needs

SCHEMA_VERSION = 1
SYMTAB = "symtab"
PCLNTAB = "pclntab (code only; includes alignment padding)"
# Package sizes count bytes in the file. Zero-filled data (.bss/.noptrbss) has symbols with a size but no
# file bytes, so it is counted apart (`bss_bytes`); `go tool nm -size` lists those symbols too.
PACKAGE_SIZE_NOTE = "file bytes only: .bss/.noptrbss symbols (zero-filled at run time) are counted in bss_bytes"
UPX_MAGIC = b"UPX!"
TZDATA_ESTIMATE = 450_000  # the embedded zoneinfo zip is an anonymous string: its size is not attributable


@dataclass
class SizeEntry:
    name: str
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes}


@dataclass
class Recommendation:
    title: str
    saves_bytes: int | None
    estimated: bool = False
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "saves_bytes": self.saves_bytes, "estimated": self.estimated,
                "detail": self.detail}


@dataclass
class Analysis:
    path: str
    file_bytes: int
    machine: str
    is_go: bool
    link: str
    interpreter: str | None
    needed: list[str]
    pie: bool
    stripped_symbols: bool
    stripped_dwarf: bool
    upx: bool
    sections: list[sections_mod.SectionSize]
    groups: dict[str, int]
    sections_exact: bool
    info: buildinfo.BuildInfo | None = None
    packages: list[SizeEntry] = field(default_factory=list)
    modules: list[SizeEntry] = field(default_factory=list)
    package_groups: dict[str, int] = field(default_factory=dict)
    size_source: str = ""
    bss_bytes: int = 0
    needs: Needs | None = None
    recommendations: list[Recommendation] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)

    @property
    def debug_build(self) -> bool:
        """Compiled for a debugger (-gcflags all=-N -l), as the build settings record it."""
        return bool(self.info) and is_debug_build(self.info.settings if self.info else {})

    def to_json(self) -> dict[str, Any]:
        info = self.info
        main = info.main if info else None
        return {
            "schema_version": SCHEMA_VERSION,
            "path": self.path,
            "file_bytes": self.file_bytes,
            "machine": self.machine,
            "go_binary": self.is_go,
            "go_version": info.go_version if info else None,
            "main_package": info.path if info else None,
            "main_module": main.to_json() if main else None,
            "dependencies": [d.to_json() for d in info.deps] if info else [],
            "build_settings": dict(info.settings) if info else {},
            "link": self.link,
            "interpreter": self.interpreter,
            "needed": self.needed,
            "pie": self.pie,
            "stripped": {"symbols": self.stripped_symbols, "dwarf": self.stripped_dwarf},
            "upx_packed": self.upx,
            "debug_build": self.debug_build,
            "sections": [{"name": s.name, "group": s.group, "bytes": s.bytes, "compressed": s.compressed}
                         for s in self.sections],
            "section_groups": [{"name": k, "bytes": v} for k, v in self.groups.items()],
            "sections_exact": self.sections_exact,
            "size_source": self.size_source,
            "package_sizes_note": PACKAGE_SIZE_NOTE if self.size_source == SYMTAB else None,
            "bss_bytes": self.bss_bytes,
            "packages": [p.to_json() for p in self.packages],
            "modules": [m.to_json() for m in self.modules],
            "package_groups": self.package_groups,
            "needs": self.needs.to_json() if self.needs else None,
            "suitable_bases": self.needs.suitable_bases() if self.needs else [],
            "recommendations": [r.to_json() for r in self.recommendations],
            "partial": self.partial,
        }


def is_std(package: str) -> bool:
    first = package.split("/", 1)[0]
    return bool(package) and "." not in first and not package.endswith(":*") or package.startswith("vendor/")


def _module_of(package: str, modules: set[str], main_module: str = "") -> str:
    """The module holding package: its longest path prefix (at `/` boundaries) that is a module path.
    A set lookup per prefix, so packages × dependencies never multiply."""
    if package == "main" and main_module:
        return main_module
    prefix = package
    while prefix:
        if prefix in modules:
            return prefix
        slash = prefix.rfind("/")
        prefix = prefix[:slash] if slash > 0 else ""
    if package.endswith(":*") or not package:
        return "(compiler-generated)"
    return "std" if is_std(package) else "(unknown module)"


def _sizes(table: pclntab.FuncTable | None,
           syms: symtab.SymbolSizes | None) -> tuple[dict[str, int], str, FunctionNames, int]:
    """Per-package bytes, their source, function names, and the .bss bytes left out of the packages."""
    if syms is not None:  # the function table was read without its functions: names come from symbols
        return syms.packages, SYMTAB, syms.functions, syms.bss_bytes
    per_pkg: dict[str, int] = defaultdict(int)
    names = {f.name for f in table.funcs} if table is not None else set()
    if table is not None:
        for f in table.funcs:
            per_pkg[pclntab.package_of(f.name) or symtab.OTHER] += f.size
        return per_pkg, PCLNTAB, NameSet(names), 0
    return per_pkg, "none", NameSet(names), 0


def analyze_bytes(view: memoryview, path: str, *, size_source: str = "best") -> Analysis:
    """`size_source="pclntab"` sizes packages from the function table even when a symbol table exists,
    so two binaries of which only one kept its symbols can be compared like with like."""
    if len(view) >= 4 and bytes(view[:4]) != elf_mod.ELF_MAGIC:
        raise BinaryFormatError(f"{path}: not an ELF binary")
    try:
        e = elf_mod.parse(view)
    except BinaryFormatError as exc:
        raise BinaryFormatError(f"{path}: {exc}") from None
    secs, groups, exact = sections_mod.sizes(e)
    upx = UPX_MAGIC in bytes(view[:4096]) or any(s.name.startswith("UPX") for s in e.sections)
    has_symtab = e.section(".symtab") is not None
    has_dwarf = any(s.name.startswith((".debug_", ".zdebug_")) for s in e.sections)
    result = Analysis(
        path=path, file_bytes=e.size, machine=e.machine, is_go=False,
        link="dynamic" if e.is_dynamic else "static", interpreter=e.interpreter, needed=list(e.needed),
        pie=e.is_pie, stripped_symbols=not has_symtab, stripped_dwarf=not has_dwarf, upx=upx,
        sections=secs, groups=groups, sections_exact=exact)
    if not exact:
        result.partial.append("sections overlap or exceed the file: section accounting is approximate")
    try:
        result.info = buildinfo.read(e)
    except BinaryFormatError as exc:
        result.partial.append(f"build info unreadable: {exc}")
    use_symtab = has_symtab and size_source != "pclntab"
    table = None
    try:
        # With a symbol table, names and sizes come from it; the function table is read for its file list.
        table = pclntab.read(e, with_files=True, with_funcs=not use_symtab)
    except BinaryFormatError as exc:
        result.partial.append(f"function table unreadable: {exc}")
    if table is not None and table.partial:
        result.partial.append("function table is inconsistent: package sizes are partial")
    result.is_go = result.info is not None or table is not None
    if not result.is_go:
        return result
    syms = symsizes.sizes(e) if use_symtab else None
    per_pkg, source, func_names, result.bss_bytes = _sizes(table, syms)
    result.size_source = source
    result.packages = sorted((SizeEntry(k, v) for k, v in per_pkg.items()), key=lambda s: (-s.bytes, s.name))
    info = result.info
    mod_paths = set(([info.main.path] if info and info.main else []) + [d.path for d in (info.deps if info else [])])
    per_mod: dict[str, int] = defaultdict(int)
    groups_pkg = {"main": 0, "standard library": 0, "dependencies": 0, "compiler-generated": 0}
    main_path = info.main.path if info and info.main else (info.path if info else "")
    for p in result.packages:
        mod = _module_of(p.name, mod_paths, info.main.path if info and info.main else "")
        per_mod[mod] += p.bytes
        if p.name == "main" or (main_path and (p.name == main_path or p.name.startswith(main_path + "/"))):
            groups_pkg["main"] += p.bytes
        elif mod == "std":
            groups_pkg["standard library"] += p.bytes
        elif mod == "(compiler-generated)" or p.name == "(other)":
            groups_pkg["compiler-generated"] += p.bytes
        else:
            groups_pkg["dependencies"] += p.bytes
    result.modules = sorted((SizeEntry(k, v) for k, v in per_mod.items()), key=lambda s: (-s.bytes, s.name))
    result.package_groups = groups_pkg
    pkg_names = {p.name for p in result.packages}
    result.needs = needs_mod.detect(func_names, pkg_names, e.is_dynamic)
    result.recommendations = _recommend(result, table)
    return result


def _recommend(a: Analysis, table: pclntab.FuncTable | None) -> list[Recommendation]:
    out: list[Recommendation] = []
    settings = a.info.settings if a.info else {}
    dwarf = a.groups.get("DWARF", 0)
    syms = sum(s.bytes for s in a.sections if s.name in (".symtab", ".strtab"))
    if (dwarf or syms) and not a.debug_build:  # a debugger needs both: stripping a debug build defeats it
        out.append(Recommendation(
            f'-ldflags "-s -w" removes DWARF {human_bytes(dwarf)} and the symbol table {human_bytes(syms)}',
            dwarf + syms, detail="panics keep file:line: .gopclntab is runtime data and stays"))
    if settings.get("-trimpath") != "true" and table is not None:
        absolute = [f for f in table.files if f.startswith("/")]
        if absolute:
            saved = sum(len(f) - len(_trimmed(f)) for f in absolute)
            out.append(Recommendation(f"-trimpath: {len(absolute)} absolute source paths found", saved,
                                      estimated=True, detail="saving estimated from path lengths in the file table; "
                                                             "also makes builds reproducible across checkouts"))
    if a.link == "dynamic":
        out.append(Recommendation(
            "built with cgo → dynamic" + (f" (needs {a.interpreter})" if a.interpreter else "") +
            "; CGO_ENABLED=0 gives a static binary that runs on scratch or slimgo static", None,
            detail="size change needs a rebuild to measure: try `slimgo compare`"))
    if a.needs and a.needs.tzdata_embedded:
        tz = next((p.bytes for p in a.packages if p.name == "time/tzdata"), 0)
        out.append(Recommendation(
            "time/tzdata is embedded (about +440 KiB) and the slimgo static base already has zoneinfo",
            max(tz, TZDATA_ESTIMATE), estimated=True,
            detail="the embedded zip is an anonymous string, so its size is the documented ~440 KiB, not measured"))
    if a.upx:
        out.append(Recommendation("UPX-packed: every start decompresses the whole program into memory", None,
                                  detail="pull size gains are small against compressed layers; see slimgo compare"))
    return out


def _trimmed(path: str) -> str:
    if "/src/" in path:
        return path.split("/src/", 1)[1]
    if "/pkg/mod/" in path:
        return path.split("/pkg/mod/", 1)[1]
    return path.rsplit("/", 1)[-1]




def analyze_file(path: Path, *, size_source: str = "best") -> Analysis:
    with elf_mod.MappedFile(path) as mf:
        if len(mf.view) < 4 or bytes(mf.view[:4]) != elf_mod.ELF_MAGIC:
            raise BinaryFormatError(f"{path}: not an ELF binary (analyze takes a Go binary, an image tarball, "
                                    "an OCI layout directory, oci:DIR, docker-archive:FILE or docker-daemon:NAME)")
        return analyze_bytes(mf.view, str(path), size_source=size_source)
