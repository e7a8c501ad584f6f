"""What a Go binary needs from its image at run time, read from the functions it contains.

The linker drops unreachable functions, so the presence of e.g. crypto/x509.loadSystemRoots means the
program can load system roots. A need the program does not have is reported false, never guessed true.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import asdict, dataclass
from typing import Protocol

from ..errors import BadInput
from .elf import ElfFile


class FunctionNames(Protocol):
    """The names of the functions a binary kept. A protocol, not a set: with a symbol table they are
    looked up in the string table's bytes (binary/symtab.py), so 10^5 names are never decoded."""

    def __contains__(self, name: str) -> bool: ...

    def any_startswith(self, prefixes: tuple[str, ...]) -> bool: ...


class NameSet:
    """FunctionNames over decoded names (from the function table)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def any_startswith(self, prefixes: tuple[str, ...]) -> bool:
        return any(n.startswith(prefixes) for n in self.names)


class NameTable:
    """FunctionNames over Go's function name table as it lies in the file, and the offsets of the names of
    the functions the linker kept (binary/pclntab.function_names): a question is a search of the table's
    bytes, then a look at whether the name found belongs to a kept function. Decoding caddy's ~90,000 names
    into a set cost 0.23 s of an edited rebuild. The table also names functions inlined into others, which
    alone do not count: CGO_ENABLED=0 leaves net's cgo lookup stubs inlined in code that never runs."""

    def __init__(self, table: bytes, starts: set[int]) -> None:
        self.table = table
        self.starts = starts

    def _kept(self, name: bytes) -> bool:
        """A kept function's name begins with these bytes (a name starts the table or follows a NUL)."""
        if 0 in self.starts and self.table.startswith(name):
            return True
        needle = b"\0" + name
        at = self.table.find(needle)
        while at >= 0:
            if at + 1 in self.starts:
                return True
            at = self.table.find(needle, at + 1)
        return False

    def __contains__(self, name: str) -> bool:
        return self._kept(name.encode() + b"\0")

    def any_startswith(self, prefixes: tuple[str, ...]) -> bool:
        return any(self._kept(p.encode()) for p in prefixes)

    def packages(self) -> Container[str]:
        """The packages with a kept function: a name of package P starts with "P." (pclntab.package_of)."""
        return _PackagesOf(self)


class _PackagesOf:
    def __init__(self, names: NameTable) -> None:
        self.names = names

    def __contains__(self, package: object) -> bool:
        return isinstance(package, str) and self.names.any_startswith((package + ".",))


@dataclass(frozen=True)
class Needs:
    ca_roots: bool  # uses the system TLS roots (needs a CA bundle in the image)
    zoneinfo: bool  # loads zones from the file system (needs zoneinfo in the image)
    tzdata_embedded: bool  # time/tzdata is linked in
    loads_zones: bool  # calls time.LoadLocation at all
    user_db: bool  # os/user lookups (needs /etc/passwd, /etc/group)
    dns: bool  # resolves host names
    cgo_resolver: bool  # DNS through libc (getaddrinfo) instead of Go's resolver
    cgo: bool  # runtime/cgo linked in
    dynamic: bool  # needs an ELF interpreter and shared libraries
    plugins: bool

    def to_json(self) -> dict[str, bool]:
        d = asdict(self)
        return {"ca_roots": d["ca_roots"], "zoneinfo": d["zoneinfo"], "tzdata_embedded": d["tzdata_embedded"],
                "user_db": d["user_db"], "dns": d["dns"], "cgo": d["cgo"], "cgo_resolver": d["cgo_resolver"],
                "dynamic": d["dynamic"], "plugins": d["plugins"], "loads_zones": d["loads_zones"]}

    def suitable_bases(self) -> list[str]:
        if self.dynamic:
            return ["a glibc or musl distro image with the binary's interpreter and libraries"]
        bases = []
        if not (self.ca_roots or self.zoneinfo or self.user_db):
            bases.append("scratch")
        bases.append("slimgo static")
        return bases


def detect(func_names: FunctionNames, packages: Container[str], dynamic: bool) -> Needs:
    loads_zones = "time.LoadLocation" in func_names or "time.loadLocation" in func_names
    tzdata = "time/tzdata" in packages
    ca = func_names.any_startswith(("crypto/x509.loadSystemRoots", "crypto/x509.systemRootsPool",
                                    "crypto/x509.initSystemRoots"))
    user = "os/user" in packages and func_names.any_startswith(("os/user.lookup", "os/user.current",
                                                                "os/user.Lookup", "os/user.Current"))
    dns = func_names.any_startswith(("net.(*Resolver).lookupHost", "net.(*Resolver).lookupIPAddr",
                                     "net.(*Resolver).goLookupIP", "net.(*Resolver).lookupIP"))
    cgo_resolver = func_names.any_startswith(("net._C2func_getaddrinfo", "net.cgoLookupHost",
                                              "net._Cfunc_getaddrinfo"))
    cgo = "runtime/cgo" in packages
    plugins = "plugin" in packages and func_names.any_startswith(("plugin.Open",))
    return Needs(ca_roots=ca, zoneinfo=loads_zones and not tzdata, tzdata_embedded=tzdata,
                 loads_zones=loads_zones, user_db=user, dns=dns, cgo_resolver=cgo_resolver, cgo=cgo,
                 dynamic=dynamic, plugins=plugins)


def of_elf(e: ElfFile) -> Needs | None:
    """A binary's needs from its function table; None when the table is unreadable or inconsistent (a packed
    or damaged binary): then nothing is known, rather than "needs nothing"."""
    from . import pclntab

    try:
        data = pclntab.find(e)
        in_file = pclntab.function_names(data) if data is not None else None
        if in_file is not None:
            found = NameTable(*in_file)
            return detect(found, found.packages(), e.is_dynamic)
        table = pclntab.read(e)
    except BadInput:
        return None
    if table is None or table.partial:
        return None
    names = {f.name for f in table.funcs}
    return detect(NameSet(names), {pclntab.package_of(n) for n in names}, e.is_dynamic)
