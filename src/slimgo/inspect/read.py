"""One streaming pass over each layer of an image: entry metadata, content hashes, ELF summaries.

The image is hostile input. Nothing is written to disk; every path is normalised and one that would
leave the image root is refused; tar extension headers (PAX, GNU long names) are bounded before they
are read into memory (tarstream.py); the number of entries, an ELF's size and the decompression ratio
are bounded, so a tar bomb or a gzip bomb fails with a one-line error instead of eating the machine. A
layer its source does not verify by digest is checked against the config's `diff_ids` with
oci/digest.py's reader.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import struct
from dataclasses import dataclass
from typing import IO, Any, Callable, cast

from ..errors import ImageFormatError
from ..oci.digest import Digest, DigestingReader
from ..sources.files import decompressed_stream, safe_path
from ..sources.local import SourceImage
from . import elfinfo
from .model import DIR, FILE, HARDLINK, NOT_WHITEOUT, OPAQUE, OTHER, SYMLINK, WHITEOUT, Entry, ImageScan, LayerScan
from .tarstream import Header, TarStream

CHUNK = 1 << 20
CAPABILITY_XATTR = "security.capability"
TEXT_PATHS = frozenset({"/etc/passwd", "/etc/group", "/etc/ld.so.conf", "/etc/nsswitch.conf", "/etc/os-release",
                        "/usr/lib/os-release"})
TEXT_PREFIXES = ("/etc/ld.so.conf.d/", "/etc/ld-musl-")
MAX_TEXT = 256 << 10
PEM_KEY = b"PRIVATE KEY-----"


@dataclass(frozen=True)
class Limits:
    """Bounds on hostile input; each is far above what a real image needs."""

    max_entries: int = 1_000_000  # entries over all layers (each costs ~250 bytes of memory)
    max_texts: int = 8 << 20  # small config files kept per layer (passwd, ld.so.conf.d/*, ...)
    max_header: int = 1 << 20  # one PAX / GNU long-name header
    max_path: int = 4096  # Linux PATH_MAX
    max_elf: int = 1 << 30  # an ELF larger than this is listed but not parsed
    max_ratio: int = 1100  # decompressed / compressed: gzip cannot exceed ~1032, so more is a bomb
    ratio_floor: int = 1 << 30  # the ratio is only checked past this many decompressed bytes
    max_layer_bytes: int = 256 << 30  # decompressed bytes of one layer


class _Counting(io.RawIOBase):
    """Counts the decompressed stream and stops a bomb as soon as it crosses the bounds."""

    def __init__(self, inner: IO[bytes], compressed: int, limits: Limits, what: str) -> None:
        self.inner, self.compressed, self.limits, self.what = inner, compressed, limits, what
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.inner.read(len(b))
        self.count += len(data)
        lim = self.limits
        if self.count > lim.max_layer_bytes or (
                self.count > lim.ratio_floor and self.count > lim.max_ratio * max(self.compressed, 1)):
            raise ImageFormatError(f"{self.what}: decompresses to more than {self.count} bytes "
                                   f"from {self.compressed} (a decompression bomb?)")
        b[:len(data)] = data
        return len(data)


def scan(image: SourceImage, limits: Limits = Limits(), progress: Callable[[str], None] | None = None) -> ImageScan:
    diff_ids = list((image.config.get("rootfs") or {}).get("diff_ids") or [])
    if diff_ids and len(diff_ids) != len(image.layers):
        raise ImageFormatError(f"{image.ref}: config lists {len(diff_ids)} diff_ids for {len(image.layers)} layers")
    budget = [limits.max_entries]
    layers = []
    for i, src in enumerate(image.layers):
        if progress:
            progress(f"reading layer {i + 1}/{len(image.layers)} ({src.size} bytes)")
        layer = LayerScan(i, src.digest, src.media_type, src.size)
        what = f"layer {i} ({src.digest})"
        # A blob named by its digest is verified by its source as it is read. Docker's manifest.json archives
        # name layers by path: their uncompressed bytes are checked against the config's diff_id instead.
        stream = decompressed_stream(src.open)
        if not src.digest.startswith("sha256:") and diff_ids:
            stream = cast(IO[bytes], DigestingReader(stream, Digest.parse(diff_ids[i], f"{what} diff_id"),
                                                     limit=limits.max_layer_bytes, what=what))
        counting = _Counting(stream, src.size, limits, what)
        try:
            buffered = io.BufferedReader(counting, CHUNK)
            _read_layer(TarStream(buffered, limits.max_header), layer, limits, budget, what)
            while buffered.read(CHUNK):  # the end-of-archive padding, and the digest checks at EOF
                pass
        except (OSError, EOFError, ValueError) as exc:
            raise ImageFormatError(f"{what}: unreadable ({exc})") from None
        layer.uncompressed_bytes = counting.count
        if not src.digest.startswith("sha256:") and diff_ids:  # docker save names layers by file
            layer.digest = diff_ids[i]
        layers.append(layer)
    _attach_history(image.config, layers)
    return ImageScan(image.ref, image.platform.key, image.config, layers, image.manifest_digest)


def _attach_history(config: dict[str, Any], layers: list[LayerScan]) -> None:
    """History entries that made a layer (empty_layer unset), in order, as dive and `docker history` pair them."""
    history = [h for h in (config.get("history") or []) if isinstance(h, dict)]
    made = [(i, h) for i, h in enumerate(history) if not h.get("empty_layer")]
    for layer, (hi, h) in zip(layers, made):
        layer.created_by = str(h.get("created_by", ""))[:4096]
        layer.history_index = hi


def _read_layer(tar: TarStream, layer: LayerScan, limits: Limits, budget: list[int], what: str) -> None:
    while True:
        m = tar.next()
        if m is None:
            break
        budget[0] -= 1
        if budget[0] < 0:
            raise ImageFormatError(f"{what}: more than {limits.max_entries} entries in the image")
        if len(m.name) > limits.max_path:
            raise ImageFormatError(f"{what}: an entry name is {len(m.name)} bytes long")
        path = safe_path(m.name)
        if path is None:
            raise ImageFormatError(f"{what}: entry {m.name!r} escapes the image root")
        layer.dive_bytes += m.size
        if path == "/":
            continue
        entry = _entry(m, path, layer.index, what)
        layer.entries.append(entry)
        if entry.kind == FILE and entry.whiteout == NOT_WHITEOUT:
            _read_content(tar, m, entry, layer, limits)


KINDS = {"0": FILE, "\0": FILE, "7": FILE, "5": DIR, "2": SYMLINK, "1": HARDLINK}


def _entry(m: Header, path: str, index: int, what: str) -> Entry:
    base = posixpath.basename(path)
    parent = posixpath.dirname(path)
    whiteout, dive_name = NOT_WHITEOUT, ""
    if base == ".wh..wh..opq":
        whiteout, path = OPAQUE, parent
    elif base.startswith(".wh."):
        whiteout, dive_name, path = WHITEOUT, base, posixpath.join(parent, base[4:])
    kind = KINDS.get(m.type, OTHER)
    link = m.linkname
    if kind == HARDLINK:
        target = safe_path(link)
        if target is None:
            raise ImageFormatError(f"{what}: hard link {m.name!r} points outside the image root")
        link = target
    return Entry(path, kind, m.size, m.mode, m.uid, m.gid, link[:4096], None,
                 CAPABILITY_XATTR in m.xattrs, whiteout, index, dive_name)


def _read_content(tar: TarStream, m: Header, entry: Entry, layer: LayerScan, limits: Limits) -> None:
    h = hashlib.sha256()
    head = tar.read(CHUNK)
    h.update(head)
    path = entry.path
    elf_buf: bytearray | None = None
    if head[:4] == b"\x7fELF":
        if 64 <= m.size <= limits.max_elf and _is_program(head):
            elf_buf = bytearray(head)
        else:
            layer.libraries.add(path)
    if head[:2] == b"#!" and entry.mode & 0o111:
        layer.shebangs[path] = head[:256].split(b"\n", 1)[0][2:].decode("utf-8", "replace").strip()
    if b"-----BEGIN" in head[:4096] and PEM_KEY in head[:8192]:
        layer.private_keys.add(path)
    if m.size <= MAX_TEXT and (path in TEXT_PATHS or path.startswith(TEXT_PREFIXES)):
        layer.text_bytes += max(len(head), 512)  # each file counts at least a block, so their number is bounded too
        if layer.text_bytes > limits.max_texts:
            raise ImageFormatError(f"layer {layer.index}: more than {limits.max_texts} bytes of loader and user "
                                   "configuration files")
        layer.texts[path] = head
    while chunk := tar.read(CHUNK):
        h.update(chunk)
        if elf_buf is not None:
            elf_buf += chunk
    entry.digest = h.digest()
    if elf_buf is not None:
        layer.elfs[path] = elfinfo.summarise(memoryview(elf_buf))


def _is_program(head: bytes) -> bool:
    """An ELF that can be exec'd: an executable, or a shared object with an interpreter (PIE). Shared
    libraries are not started, so their bytes are not kept. Undecidable from the head: kept."""
    try:
        bits64, little = head[4] == 2, head[5] == 1
        e = "<" if little else ">"
        etype: int = struct.unpack_from(e + "H", head, 16)[0]
        if etype != 3:  # ET_DYN
            return etype == 2  # ET_EXEC
        if bits64:
            phoff, = struct.unpack_from(e + "Q", head, 32)
            phentsize, phnum = struct.unpack_from(e + "HH", head, 54)
        else:
            phoff, = struct.unpack_from(e + "I", head, 28)
            phentsize, phnum = struct.unpack_from(e + "HH", head, 42)
        for k in range(phnum):
            off = phoff + k * phentsize
            if off + 4 > len(head):
                return True
            if struct.unpack_from(e + "I", head, off)[0] == 3:  # PT_INTERP
                return True
        return False
    except struct.error:
        return True
