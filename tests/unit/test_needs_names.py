"""binary/needs.NameTable: needs are asked of the function name table's bytes, and only names of functions the
function table keeps count (a name that is there only because it was inlined does not), on hand-made Go 1.20
tables; a table whose offsets do not line up is not searched at all. Real binaries: test_analyze.py."""

from __future__ import annotations

import struct

from slimgo.binary import pclntab
from slimgo.binary.needs import NameTable, detect


def _table(kept: list[str], inlined: list[str], name_shift: int = 0) -> memoryview:
    """A Go 1.20 function table: the name table holds kept and inlined names (in that order, interleaved by
    the caller's lists), the function table one function per kept name."""
    header = struct.pack("<IBBBB", 0xFFFFFFF1, 0, 0, 1, 8)
    names = b""
    offsets = {}
    for n in [*kept, *inlined]:
        offsets[n] = len(names)
        names += n.encode() + b"\0"
    nametab = len(header) + 8 * 8
    functab = nametab + len(names)
    nfunc = len(kept)
    funcs = b"".join(struct.pack("<Ii", 16 * i, offsets[n] + name_shift) for i, n in enumerate(kept))
    func_base = (2 * nfunc + 1) * 4
    pairs = b"".join(struct.pack("<II", 16 * i, func_base + 8 * i) for i in range(nfunc)) + struct.pack("<I", 16 * nfunc)
    words = struct.pack("<8Q", nfunc, 0, 0, nametab, functab, functab, functab, functab)
    return memoryview(header + words + names + pairs + funcs)


def _names(data: memoryview) -> NameTable:
    found = pclntab.function_names(data)
    assert found is not None
    return NameTable(*found)


def test_kept_names_are_found_whole_and_by_prefix() -> None:
    t = _names(_table(["main.main", "net.(*Resolver).lookupIPAddr", "time.LoadLocation"], []))
    assert "main.main" in t and "time.LoadLocation" in t
    assert "main.mai" not in t and "ain.main" not in t  # whole names only
    assert t.any_startswith(("net.(*Resolver).lookupIP",)) and not t.any_startswith(("et.(",))
    assert "net" in t.packages() and "time" in t.packages() and "os/user" not in t.packages()


def test_a_name_that_is_only_inlined_does_not_count() -> None:
    """CGO_ENABLED=0 leaves net's cgo lookup stubs inlined into code that never runs (caddy)."""
    t = _names(_table(["main.main"], ["net.cgoLookupHost", "os/user.Current"]))
    assert "net.cgoLookupHost" not in t and not t.any_startswith(("net.cgoLookupHost",))
    assert "os/user" not in t.packages()
    needs = detect(t, t.packages(), dynamic=False)
    assert not needs.cgo_resolver and not needs.user_db


def test_a_later_occurrence_of_a_prefix_is_still_found() -> None:
    """The first match of a prefix is an inlined name; a kept one comes after it."""
    t = _names(_table(["main.main", "crypto/x509.loadSystemRoots"], ["crypto/x509.loadSystemRootsInlined"]))
    assert t.any_startswith(("crypto/x509.loadSystemRoots",))
    only_inlined = _names(_table(["main.main"], ["crypto/x509.loadSystemRoots"]))
    assert not only_inlined.any_startswith(("crypto/x509.loadSystemRoots",))


def test_a_name_offset_outside_the_table_is_not_searched() -> None:
    assert pclntab.function_names(_table(["main.main"], [], name_shift=10_000)) is None
    assert pclntab.parse(_table(["main.main"], [], name_shift=10_000)).partial  # what the old reading said


def test_the_older_layout_is_left_to_the_decoded_reading() -> None:
    data = bytearray(_table(["main.main"], []))
    data[:4] = struct.pack("<I", 0xFFFFFFFB)  # Go 1.2-1.15: names among the other data
    assert pclntab.function_names(memoryview(bytes(data))) is None
