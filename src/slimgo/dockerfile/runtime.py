"""The runtime stage of a generated Dockerfile: which image, and what it needs copied into it.

The answer comes from the program itself: slimgo compiles it once on the host with the Dockerfile's
flags and reads the binary with the same code as `analyze`, `build` and `inspect` (binary/needs.of_elf
for CA roots and zoneinfo, the ELF's DT_NEEDED for a cgo build's libraries). Reading imports would say "crypto/x509 is
imported" for every program that imports net/http; the linked functions say whether system roots are
ever loaded. The cost is one `go build` with a warm cache, and only for `--base scratch` and cgo.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..binary import elf
from ..binary.needs import Needs
from ..binary.needs import of_elf as needs_of_elf
from ..errors import BadInput
from ..gobuild.build import compile_binary
from ..gobuild.target import Target
from ..gobuild.toolchain import Toolchain
from ..platform import Platform
from ..strategy import GoFlags
from .project import CXX_LIBS, GLIBC_LIBS

DEFAULT_RUNTIME = "gcr.io/distroless/static-debian12:nonroot"
GLIBC_RUNTIME = "gcr.io/distroless/base-debian12:nonroot"  # glibc, libssl, CA roots, tzdata
CXX_RUNTIME = "gcr.io/distroless/cc-debian12:nonroot"  # the above plus libstdc++ and libgcc_s
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@dataclass(frozen=True)
class Probed:
    """What the host build of the program says about its runtime."""

    needs: Needs | None  # None: the function table was unreadable, so nothing is known
    needed: tuple[str, ...]  # DT_NEEDED


@dataclass(frozen=True)
class Runtime:
    image: str
    why: str  # one line for the header
    copies: tuple[tuple[str, str], ...] = ()  # (path in the build stage, path in the image)
    env: tuple[tuple[str, str], ...] = ()


Probe = Callable[[GoFlags], Probed]


def host_probe(toolchain: Toolchain, target: Target) -> Probe:
    """Compile the program on the host for linux/<host arch> and read it as build and inspect do."""
    def probe(flags: GoFlags) -> Probed:
        with tempfile.TemporaryDirectory(prefix="slimgo-df-") as tmp:
            built = compile_binary(toolchain, target, flags, Platform("linux", toolchain.goarch), Path(tmp))
            with elf.MappedFile(built.path) as mf:
                e = elf.parse(mf.view)
                return Probed(needs_of_elf(e), tuple(e.needed))
    return probe


def _is_libcless(image: str) -> bool:
    return image == "scratch" or "distroless/static" in image


def choose(base: str | None, *, cgo: bool, flags: GoFlags, probe: Probe) -> Runtime:
    if cgo:
        return _cgo_runtime(base, flags, probe)
    if base == "scratch":
        return _scratch(flags, probe)
    return Runtime(base or DEFAULT_RUNTIME, "--base" if base else "distroless static: CA roots, tzdata, nonroot user")


def _cgo_runtime(base: str | None, flags: GoFlags, probe: Probe) -> Runtime:
    if base is not None and _is_libcless(base):
        raise BadInput(f"--base {base}: a cgo binary needs the ELF loader and libc, which {base} lacks: use "
                       f"{GLIBC_RUNTIME} (or drop --base and slimgo picks one)")
    if base is not None:
        return Runtime(base, "--base (cgo: it must have glibc and the program's libraries)")
    try:
        a = probe(flags)
    except BadInput as exc:
        raise BadInput(f"cgo program: slimgo builds it once on this machine to read which libraries it links, "
                       f"and that failed ({exc}); install a C compiler, or give --base IMAGE with its libraries") from None
    libs = set(a.needed)
    if libs <= GLIBC_LIBS:
        return Runtime(GLIBC_RUNTIME, f"distroless base: glibc for a cgo binary that links {', '.join(sorted(libs))}")
    if libs <= GLIBC_LIBS | CXX_LIBS:
        return Runtime(CXX_RUNTIME, f"distroless cc: glibc and libstdc++ for a cgo binary that links "
                       f"{', '.join(sorted(libs))}")
    other = sorted(libs - GLIBC_LIBS - CXX_LIBS)
    raise BadInput(f"cgo program links {', '.join(other)}, which no distroless image has: give --base IMAGE "
                   "that ships them (e.g. debian:bookworm-slim with their runtime packages installed)")


def _scratch(flags: GoFlags, probe: Probe) -> Runtime:
    a = probe(flags)
    needs = a.needs
    copies: list[tuple[str, str]] = []
    env: list[tuple[str, str]] = []
    parts = ["scratch"]
    if needs is None or needs.ca_roots:
        copies.append((CA_BUNDLE, CA_BUNDLE))
        parts.append("CA bundle (it loads system TLS roots)")
    if needs is None or needs.zoneinfo:
        # Go reads $ZONEINFO before the system paths; the toolchain ships this zip, so every golang image has it.
        copies.append(("/out/zoneinfo.zip", "/zoneinfo.zip"))
        env.append(("ZONEINFO", "/zoneinfo.zip"))
        parts.append("zoneinfo (it loads time zones)")
    if needs is not None and needs.dynamic:
        raise BadInput("--base scratch: the binary is dynamically linked, scratch has no loader")
    return Runtime("scratch", " + ".join(parts) + ", as slimgo analyze reads the binary", tuple(copies), tuple(env))
