"""One ELF file summarised while its layer streams by, so its bytes can be dropped right after.

Go binaries also get their run-time needs from the same function-table rule `slimgo analyze` uses
(binary/needs.py); only the function names are read, not the size accounting, to keep the pass fast.
"""

from __future__ import annotations

from ..binary import buildinfo, pclntab
from ..binary import elf as elf_mod
from ..binary import needs as needs_mod
from ..errors import BinaryFormatError
from .model import ElfInfo, GoInfo


def summarise(data: memoryview) -> ElfInfo:
    try:
        e = elf_mod.parse(data)
    except (BinaryFormatError, ValueError, IndexError) as exc:
        return ElfInfo("unknown", False, None, (), True, True, None, f"unreadable ELF ({exc})")
    stripped_symbols = e.section(".symtab") is None
    stripped_dwarf = not any(s.name.startswith((".debug_", ".zdebug_")) for s in e.sections)
    base = dict(machine=e.machine, dynamic=e.is_dynamic, interpreter=e.interpreter, needed=tuple(e.needed),
                stripped_symbols=stripped_symbols, stripped_dwarf=stripped_dwarf)
    try:
        info = buildinfo.read(e)
    except BinaryFormatError as exc:
        return ElfInfo(**base, error=f"Go build info unreadable ({exc})")  # type: ignore[arg-type]
    table = None
    try:
        table = pclntab.read(e, with_files=False, with_funcs=True)
    except BinaryFormatError:
        table = None
    if info is None and table is None:
        return ElfInfo(**base)  # type: ignore[arg-type]
    needs = None
    if table is not None:
        names = {f.name for f in table.funcs}
        packages = {pclntab.package_of(n) for n in names}
        needs = needs_mod.detect(names, packages, e.is_dynamic).to_json()
    main = info.main if info else None
    go = GoInfo(go_version=info.go_version if info else (f"go{table.version}+" if table else ""),
                main_package=info.path if info else "",
                main_module=main.path if main else "", main_version=main.version if main else "",
                deps=tuple((d.path, d.version) for d in (info.deps if info else [])),
                settings=tuple(sorted(info.settings.items())) if info else (), needs=needs)
    return ElfInfo(**base, go=go)  # type: ignore[arg-type]
