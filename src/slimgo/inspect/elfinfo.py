"""One ELF file summarised while its layer streams by, so its bytes can be dropped right after.

Go binaries also get their run-time needs from the same function-table rule `slimgo analyze` uses
(binary/needs.py); only the function names are read, not the size accounting, to keep the pass fast.
"""

from __future__ import annotations

from dataclasses import replace

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
    plain = ElfInfo(e.machine, e.is_dynamic, e.interpreter, tuple(e.needed),
                    stripped_symbols=e.section(".symtab") is None,
                    stripped_dwarf=not any(s.name.startswith((".debug_", ".zdebug_")) for s in e.sections))
    try:
        info = buildinfo.read(e)
        has_table = pclntab.find(e) is not None
    except BinaryFormatError as exc:
        return replace(plain, error=f"Go build info unreadable ({exc})")
    if info is None and not has_table:
        return plain
    needs = needs_mod.of_elf(e)
    main = info.main if info else None
    return replace(plain, go=GoInfo(
        go_version=info.go_version if info else "", main_package=info.path if info else "",
        main_module=main.path if main else "", main_version=main.version if main else "",
        deps=tuple((d.path, d.version) for d in (info.deps if info else [])),
        settings=tuple(sorted(info.settings.items())) if info else (),
        needs=needs.to_json() if needs else None))
