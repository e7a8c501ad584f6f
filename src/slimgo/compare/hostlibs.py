"""The C runtime a cgo binary needs, taken from this machine's own glibc files.

A plain `go build` with gcc present gives a dynamic binary. On a libc-less base it cannot start, so a
"baseline" built that way would be the reference of every percentage while never running. A `FROM golang`
image has the loader and libraries of its distro; the nearest thing that needs no registry pull is the
host's own: the ELF interpreter and the DT_NEEDED libraries, found transitively in the usual library
directories, at the paths where the loader looks for them.
"""

from __future__ import annotations

from pathlib import Path

from ..binary import elf as elf_mod
from ..oci.layer import Entry, write_layer
from ..oci.model import Layer

SEARCH_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
               "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")
MAX_LIBS = 64  # a Go program with cgo needs a handful; a lying chain must not walk the whole disk


def _find(name: str, machine: str) -> Path | None:
    for d in SEARCH_DIRS:
        p = Path(d) / name
        if p.is_file():
            try:
                if elf_mod.parse(p.read_bytes()).machine == machine:
                    return p
            except Exception:  # noqa: BLE001 - a file that is not a usable ELF is just not a match
                continue
    return None


def runtime_files(binary: Path) -> tuple[dict[str, Path], list[str]]:
    """Image path → host file for the interpreter and the libraries (transitively), and what was not found."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    with elf_mod.MappedFile(binary) as mf:
        top = elf_mod.parse(mf.view)
        machine, interp, queue = top.machine, top.interpreter, list(top.needed)
    if interp:
        host = Path(interp)
        if host.is_file():
            found[interp.lstrip("/")] = host.resolve()
        else:
            missing.append(interp)
    seen: set[str] = set()
    while queue and len(seen) < MAX_LIBS:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        path = _find(name, machine)
        if path is None:
            missing.append(name)
            continue
        found[str(path).lstrip("/")] = path.resolve()
        queue += elf_mod.parse(path.resolve().read_bytes()).needed
    return found, missing


def runtime_layer(binary: Path, blob_dir: Path, compression: str, level: int | None) -> tuple[Layer | None, str]:
    """A layer with the binary's C runtime from the host, and a note saying what it holds (or lacks)."""
    files, missing = runtime_files(binary)
    if missing or not files:
        return None, f"the host lacks {', '.join(missing) or 'a C runtime'} for this binary: left without one"
    entries: list[Entry] = []
    first: dict[Path, str] = {}  # the loader is found under two names: store it once, link the other
    for path, src in sorted(files.items()):
        if src in first:
            entries.append(Entry(path, "hardlink", 0o755, linkname=first[src]))
        else:
            first[src] = path
            entries.append(Entry(path, "file", 0o755, source=src))
    layer = write_layer(entries, blob_dir, compression=compression, level=level,
                        comment="C runtime (loader and libraries) from the build host")
    return layer, "C runtime from the build host's glibc: " + ", ".join("/" + p for p in sorted(files))
