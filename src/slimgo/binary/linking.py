"""Does a binary's dynamic linking fit a base? Dynamic binaries fail in scratch-like images with a
misleading "no such file or directory": the missing file is the ELF interpreter, not the binary."""

from __future__ import annotations

from pathlib import PurePosixPath

LIB_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")


def missing_runtime_files(interpreter: str | None, needed: tuple[str, ...], base_files: frozenset[str]) -> list[str]:
    """The interpreter and DT_NEEDED libraries that the base does not contain (by path, then by name)."""
    missing: list[str] = []
    if interpreter and interpreter not in base_files:
        missing.append(interpreter)
    names = {PurePosixPath(p).name for p in base_files if p.startswith(LIB_DIRS)}
    for lib in needed:
        if lib not in names:
            missing.append(lib)
    return missing
