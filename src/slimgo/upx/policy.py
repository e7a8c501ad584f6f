"""Which builds UPX can pack, decided from the flags before compiling, and checked again on the ELF.

Measured with UPX 4.2.3 on `CGO_ENABLED=0 -s -w` Go binaries: linux amd64, arm64, arm, 386 and ppc64le
pack; s390x, riscv64, mips64le and loong64 end in `UnknownExecutableFormatException`; `-buildmode=pie`
ends in `CantPackException: bad DT_STRSZ`. No linux GOARCH builds PIE by default (Go's
`internal/platform.DefaultPIE` is true only for android, ios, darwin and windows), so PIE on linux
comes only from an explicit `-buildmode=pie` (flags or `GOFLAGS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..binary import elf as elf_mod
from ..platform import Platform
from ..strategy import GoFlags

PACKABLE_ARCHES = ("amd64", "arm64", "arm", "386", "ppc64le")
# e_machine names from binary/elf.py; ppc64le reports as "ppc64" (the byte order tells them apart).
_MACHINE = {"amd64": "amd64", "arm64": "arm64", "arm": "arm", "386": "386", "ppc64le": "ppc64"}


def _pie_requested(flags: GoFlags, environ: Mapping[str, str]) -> bool:
    env = {**environ, **dict(flags.env)}
    words = " ".join((flags.ldflags, flags.gcflags, env.get("GOFLAGS", ""))).replace("'", " ").replace('"', " ")
    return any(w in ("-buildmode=pie", "--buildmode=pie") for w in words.split())


def refusal(platform: Platform, flags: GoFlags, environ: Mapping[str, str]) -> str | None:
    """Why this build cannot be packed, in one line; None when it can."""
    if platform.arch not in PACKABLE_ARCHES:
        return (f"UPX cannot pack {platform} binaries (UnknownExecutableFormatException); it packs linux "
                f"{', '.join(PACKABLE_ARCHES)}")
    if _pie_requested(flags, environ):
        return "UPX cannot pack -buildmode=pie Go binaries (CantPackException: bad DT_STRSZ); drop -buildmode=pie"
    if flags.cgo is not False:
        return ("--upx packs static binaries only: this build has cgo on, so the packed file would still need "
                "its libc and ELF interpreter in the image; build with CGO_ENABLED=0")
    return None


def check_packed(path: Path, platform: Platform) -> list[str]:
    """What is wrong with a packed file for a static base: foreign machine, dynamic, PIE, not packed."""
    problems = []
    with elf_mod.MappedFile(path) as mf:
        e = elf_mod.parse(mf.view)
        head = bytes(mf.view[:4096])
    want = _MACHINE.get(platform.arch, platform.arch)
    if e.machine != want:
        problems.append(f"ELF machine is {e.machine}, the platform needs {want}")
    if e.is_dynamic:
        problems.append(f"dynamically linked (interpreter {e.interpreter or '-'}): a static base cannot run it")
    if e.is_pie:
        problems.append("position-independent (PIE)")
    if b"UPX!" not in head:
        problems.append("no UPX header: the file is not packed")
    return problems
