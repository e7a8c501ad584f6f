"""Does a binary's dynamic linking fit a base? Dynamic binaries fail in scratch-like images with a
misleading "no such file or directory": the missing file is the ELF interpreter, not the binary."""

from __future__ import annotations

from pathlib import PurePosixPath

from .elf import ElfFile

LIB_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")


def missing_runtime_files(elf: ElfFile, base_files: frozenset[str]) -> list[str]:
    """The interpreter and DT_NEEDED libraries that the base does not contain (by path, then by name)."""
    missing: list[str] = []
    if elf.interpreter and elf.interpreter not in base_files:
        missing.append(elf.interpreter)
    names = {PurePosixPath(p).name for p in base_files if p.startswith(LIB_DIRS)}
    for lib in elf.needed:
        if lib not in names:
            missing.append(lib)
    return missing
