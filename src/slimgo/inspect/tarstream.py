"""A small, bounded tar reader for layer streams (POSIX ustar, PAX, GNU long names, base-256 numbers).

Python's tarfile reads an extension header whole into memory and costs ~100 µs per entry; a layer of a
distro image has tens of thousands of entries. This reader parses the 512-byte headers with slicing,
checks every header's checksum, caps extension headers, and reports the header's own size for every
entry type (as Go's archive/tar, and so dive, do) while only regular files carry data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from ..errors import ImageFormatError

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
HEADER_ONLY = frozenset(b"12345")  # link, symlink, char, block, dir, fifo: no data follows, whatever size says
XATTR = "SCHILY.xattr."


@dataclass(slots=True)
class Header:
    name: str
    type: str  # the typeflag as one character ("0" regular, "5" directory, ...)
    size: int
    mode: int
    uid: int
    gid: int
    linkname: str = ""
    xattrs: frozenset[str] = field(default_factory=frozenset)  # names only: values are never needed

    def isreg(self) -> bool:
        return self.type in ("0", "\0", "7")


def _number(field_: bytes, what: str) -> int:
    if field_ and field_[0] & 0x80:  # base-256 (GNU) for values that do not fit in octal
        value = field_[0] & 0x3F
        for b in field_[1:]:
            value = (value << 8) | b
        return -value if field_[0] & 0x40 else value
    text = field_.split(b"\0", 1)[0].strip(b" \0")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise ImageFormatError(f"tar header: {what} field {text[:20]!r} is not a number") from None


def _text(field_: bytes) -> str:
    return field_.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax(data: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 20)
        if space < 0:
            if data[pos:].strip(b"\0\n"):
                raise ImageFormatError("tar PAX header: malformed record")
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ImageFormatError("tar PAX header: malformed record length") from None
        if length <= space - pos or pos + length > len(data):
            raise ImageFormatError("tar PAX header: record length out of range")
        record = data[space + 1: pos + length - 1]
        key, sep, value = record.partition(b"=")
        if not sep:
            raise ImageFormatError("tar PAX header: record without '='")
        out[key.decode("utf-8", "replace")] = value
        pos += length
    return out


class TarStream:
    """Entries of a tar stream, in order; `read` returns the current regular file's data."""

    def __init__(self, fh: IO[bytes], max_header: int) -> None:
        self.fh = fh
        self.max_header = max_header
        self.left = 0  # data of the current entry not read yet
        self.pad = 0

    def _exact(self, n: int) -> bytes:
        data = self.fh.read(n)
        while len(data) < n:
            more = self.fh.read(n - len(data))
            if not more:
                break
            data += more
        return data

    def _skip(self) -> None:
        n = self.left + self.pad
        while n > 0:
            chunk = self.fh.read(min(n, 1 << 20))
            if not chunk:
                raise ImageFormatError("tar stream ends inside an entry")
            n -= len(chunk)
        self.left = self.pad = 0

    def read(self, n: int) -> bytes:
        if self.left <= 0:
            return b""
        data = self.fh.read(min(n, self.left))
        if not data:
            raise ImageFormatError("tar stream ends inside an entry")
        self.left -= len(data)
        return data

    def _extension(self, size: int, what: str) -> bytes:
        if size > self.max_header:
            raise ImageFormatError(f"tar {what} header of {size} bytes (limit {self.max_header})")
        data = self._exact(size)
        if len(data) < size:
            raise ImageFormatError("tar stream ends inside an extension header")
        self._exact(-size % BLOCK)
        return data

    def next(self) -> Header | None:
        self._skip()
        pax: dict[str, bytes] = {}
        long_name = long_link = None
        kind, size, block = "", 0, b""
        while True:
            block = self._exact(BLOCK)
            if len(block) < BLOCK:
                if block:
                    raise ImageFormatError("tar stream ends inside a header")
                return None
            if block == ZERO_BLOCK:
                return None
            stored = _number(block[148:156], "checksum")
            total = sum(block[:148]) + 256 + sum(block[156:])
            if stored != total:
                raise ImageFormatError("tar header checksum mismatch (not a tar stream, or corrupted)")
            kind = chr(block[156])
            size = _number(block[124:136], "size")
            if size < 0:
                raise ImageFormatError("tar header: negative size")
            if kind in "xX":
                pax.update(_pax(self._extension(size, "PAX")))
                continue
            if kind == "g":
                self._extension(size, "global PAX")
                continue
            if kind == "L":
                long_name = self._extension(size, "GNU long name").split(b"\0", 1)[0]
                continue
            if kind == "K":
                long_link = self._extension(size, "GNU long link").split(b"\0", 1)[0]
                continue
            break
        name = _text(block[0:100])
        if block[257:263] == b"ustar\0" and block[345]:
            name = _text(block[345:500]) + "/" + name
        if long_name is not None:
            name = long_name.decode("utf-8", "surrogateescape")
        link = long_link.decode("utf-8", "surrogateescape") if long_link is not None else _text(block[157:257])
        uid, gid = _number(block[108:116], "uid"), _number(block[116:124], "gid")
        if pax:
            if "path" in pax:
                name = pax["path"].decode("utf-8", "surrogateescape")
            if "linkpath" in pax:
                link = pax["linkpath"].decode("utf-8", "surrogateescape")
            try:
                size = int(pax.get("size", size))
                uid = int(pax.get("uid", uid))
                gid = int(pax.get("gid", gid))
            except ValueError:
                raise ImageFormatError("tar PAX header: size, uid or gid is not a number") from None
        if kind == "\0" and name.endswith("/"):
            kind = "5"
        hdr = Header(name, kind, size, _number(block[100:108], "mode"), uid, gid, link,
                     frozenset(k[len(XATTR):] for k in pax if k.startswith(XATTR)))
        data = 0 if ord(kind) in HEADER_ONLY else size
        self.left, self.pad = data, -data % BLOCK
        return hdr
