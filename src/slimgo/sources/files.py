"""The files an image's layers leave behind, read by streaming the layer tars.

Whiteouts are applied in order (an opaque whiteout only hides lower layers), so a path deleted by a later
layer is gone; deletions cost what they delete, never a rebuild of the whole table. Names whose `..`
parts climb above the root are refused. Each layer is drained to its end after tarfile stops at the end-of-archive marker,
so a flipped byte or appended garbage fails the blob's digest, and the decompressed tar is checked against
the config's diff_id. Total bytes and entries are bounded (`limits.UnpackLimits`), and ELF files are
spooled to a temporary directory instead of memory, so two 700 MB binaries cost disk pages, not RAM.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import ImageFormatError
from ..limits import DEFAULT_UNPACK, UnpackLimits
from ..oci.decompress import decompressed
from ..oci.digest import Digest, DigestingReader, drain, verifying
from ..oci.model import Layer
from .local import SourceImage, SourceLayer, forget_members
from .names import display_name

if TYPE_CHECKING:  # the ELF reader loads only when a file is analysed
    from ..binary.elf import MappedFile

ELF_MAGIC = b"\x7fELF"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class ImageFile:
    path: str
    size: int
    layer: str
    spooled: Path  # a private copy, alive while the iteration that yielded it is

    def mapped(self) -> MappedFile:
        """A read-only memory map of the file, for the analysers."""
        from ..binary.elf import MappedFile

        return MappedFile(self.spooled)


def source_layers(layers: Iterable[Layer]) -> tuple[SourceLayer, ...]:
    """Layers slimgo holds on disk (built, or a cached base) as sources: still read through the verifying
    reader, so a blob changed on disk since is caught."""

    def opener(layer: Layer) -> Callable[[], IO[bytes]]:
        return lambda: verifying(open(layer.path, "rb"), Digest.parse(layer.digest, "layer"), size=layer.size,
                                 what=f"layer {layer.digest}")

    return tuple(SourceLayer(layer.digest, layer.descriptor.media_type, layer.size, opener(layer), layer.diff_id,
                             layer.digest) for layer in layers)


def decompressed_stream(opener: Callable[[], IO[bytes]]) -> IO[bytes]:
    """A layer blob as its tar stream, whatever the compression (gzip, zstd, none)."""
    return decompressed(opener())


def safe_path(name: str) -> str | None:
    """The absolute, normalised path of a layer entry, or None if its `..` parts climb above the root
    (normpath alone would silently clamp `/../x` to `/x`)."""
    depth = 0
    for part in name.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return None
        elif part not in ("", "."):
            depth += 1
    return posixpath.normpath("/" + name.lstrip("/"))


class _Budget:
    def __init__(self, limits: UnpackLimits) -> None:
        self.limits = limits
        self.entries = 0
        self.bytes = 0

    def entry(self, what: str) -> None:
        self.entries += 1
        if self.entries > self.limits.entries:
            raise ImageFormatError(f"{what}: more than {self.limits.entries} entries in the image's layers")


@contextlib.contextmanager
def layer_tar(layer: SourceLayer, budget: _Budget) -> Iterator[tarfile.TarFile]:
    """The layer as a streaming tar. On a clean exit both streams are drained and verified: the blob
    against its digest and size, the decompressed tar against the diff_id and the byte budget."""
    what = f"layer {layer.label}"
    raw = layer.open()
    try:
        expected = Digest.parse(layer.diff_id, f"{what} diff_id") if layer.diff_id else None
        compressed = _Counting(raw)
        guarded = _RatioGuard(decompressed(compressed), compressed, budget.limits, what)
        tar_stream = DigestingReader(guarded, expected, limit=budget.limits.total_bytes - budget.bytes,
                                     what=f"{what} (uncompressed)")
        try:
            with tarfile.open(fileobj=tar_stream, mode="r|") as tar:
                yield tar
            tar_stream.drain()
            drain(raw)  # the compressed stream's tail: the blob's verifying reader checks it at EOF
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise ImageFormatError(f"{what}: unreadable ({exc})") from None
        budget.bytes += tar_stream.count
    finally:
        raw.close()


class _Counting(io.RawIOBase):
    """Counts the compressed bytes the decompressor consumed."""

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self.inner, self.count = inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        data = self.inner.read(len(view)) or b""
        view[:len(data)] = data
        self.count += len(data)
        return len(data)


class _RatioGuard(_Counting):
    """Stops a decompression that yields more than `max_ratio` times what it consumed, once past
    `ratio_after` bytes: a gzip bomb ends near 1 GiB, real layers (3-10x) never meet it."""

    def __init__(self, inner: IO[bytes], compressed: _Counting, limits: UnpackLimits, what: str) -> None:
        super().__init__(inner)
        self.compressed, self.limits, self.what = compressed, limits, what

    def readinto(self, b: Any) -> int:
        n = super().readinto(b)
        if self.count > self.limits.ratio_after and self.count > self.limits.max_ratio * max(1, self.compressed.count):
            raise ImageFormatError(f"{self.what}: decompresses to more than {self.limits.max_ratio} times its "
                                   "size (a compression bomb?)")
        return n


class _Node:
    __slots__ = ("children", "layer", "value")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.layer = -1
        self.value: object = None


@dataclass
class _Tree:
    """The final filesystem's kept entries, as a tree so that a whiteout removes a subtree in time
    proportional to that subtree."""

    root: _Node = field(default_factory=_Node)
    on_drop: Callable[[object], None] = lambda value: None

    def _find(self, parts: list[str]) -> _Node | None:
        node = self.root
        for p in parts:
            nxt = node.children.get(p)
            if nxt is None:
                return None
            node = nxt
        return node

    def put(self, parts: list[str], layer: int, value: object) -> None:
        node = self.root
        for p in parts:
            node = node.children.setdefault(p, _Node())
        if node.value is not None:
            self.on_drop(node.value)
        node.layer, node.value = layer, value

    def remove_below(self, parts: list[str], layer: int, *, include_self: bool) -> None:
        """Drop entries from layers below `layer` at parts (if include_self) and under it. Emptied nodes are
        pruned as they go, so the tree never holds a valueless leaf and removal costs what it removes."""
        start = self._find(parts)
        if start is None:
            return
        order: list[tuple[_Node | None, str, _Node]] = [(None, "", start)]
        i = 0
        while i < len(order):  # breadth-first, then cleared children-first
            node = order[i][2]
            order.extend((node, name, child) for name, child in node.children.items())
            i += 1
        for parent, name, node in reversed(order):
            if (node is not start or include_self) and node.value is not None and node.layer < layer:
                self.on_drop(node.value)
                node.value, node.layer = None, -1
            if parent is not None and node.value is None and not node.children:
                del parent.children[name]
        if start.value is None and not start.children and parts:
            self._prune(parts)

    def _prune(self, parts: list[str]) -> None:
        """Remove the empty node at parts and every ancestor it leaves empty."""
        path: list[tuple[_Node, str]] = []
        node = self.root
        for p in parts:
            path.append((node, p))
            node = node.children[p]
        for parent, name in reversed(path):
            child = parent.children[name]
            if child.value is not None or child.children:
                break
            del parent.children[name]

    def items(self) -> Iterator[tuple[str, object]]:
        stack: list[tuple[str, _Node]] = [("", self.root)]
        while stack:
            prefix, node = stack.pop()
            if node.value is not None:
                yield prefix or "/", node.value
            stack.extend((f"{prefix}/{name}", child) for name, child in node.children.items())


Keep = Callable[[tarfile.TarInfo, "IO[bytes] | None", SourceLayer], object]


def _walk(layers: tuple[SourceLayer, ...], keep: Keep, on_drop: Callable[[object], None] = lambda v: None,
          limits: UnpackLimits = DEFAULT_UNPACK) -> _Tree:
    tree = _Tree(on_drop=on_drop)
    budget = _Budget(limits)
    for index, layer in enumerate(layers):
        opaque_done: set[str] = set()
        with layer_tar(layer, budget) as tar:
            for m in tar:
                forget_members(tar)
                budget.entry(f"layer {layer.label}")
                path = safe_path(m.name)
                if path is None:
                    raise ImageFormatError(f"layer {layer.label}: entry {m.name!r} escapes the image root")
                parts = [p for p in path.split("/") if p]
                if not parts:
                    continue  # the root itself (`./`)
                base = parts[-1]
                if base.startswith(WHITEOUT):
                    parent = parts[:-1]
                    if base == OPAQUE:
                        key = "/".join(parent)
                        if key not in opaque_done:
                            opaque_done.add(key)
                            tree.remove_below(parent, index, include_self=False)
                        continue
                    target = base[len(WHITEOUT):]
                    if target in ("", ".", ".."):
                        raise ImageFormatError(f"layer {layer.label}: malformed whiteout {m.name!r}")
                    tree.remove_below(parent + [target], index, include_self=True)
                    continue
                if not m.isdir():  # a non-directory replaces whatever was at its path, subtree included
                    tree.remove_below(parts, index + 1, include_self=True)
                value = keep(m, tar.extractfile(m) if m.isreg() else None, layer)
                if value is not None:
                    tree.put(parts, index, value)
    return tree


def paths(layers: tuple[SourceLayer, ...], limits: UnpackLimits = DEFAULT_UNPACK) -> frozenset[str]:
    """Every path in the final filesystem (for checks like "is the ELF interpreter there?")."""
    return frozenset(p for p, _ in _walk(layers, lambda m, fh, layer: True, limits=limits).items())


def elf_files(image: SourceImage, limits: UnpackLimits = DEFAULT_UNPACK) -> Iterator[ImageFile]:
    """Regular ELF files present in the final filesystem (whiteouts applied), in path order. Each is a
    spooled copy on disk; the copies are removed when the iteration ends."""
    with tempfile.TemporaryDirectory(prefix="slimgo-elf-") as tmp:
        counter = iter(range(1 << 62))

        def spool(m: tarfile.TarInfo, fh: IO[bytes] | None, layer: SourceLayer) -> object:
            if fh is None or m.size < 64 or m.size > limits.file_bytes:
                return None
            head = fh.read(4)
            if head != ELF_MAGIC:
                return None
            dest = Path(tmp) / str(next(counter))
            with open(dest, "wb") as out:
                out.write(head)
                shutil.copyfileobj(fh, out, 1 << 20)
            return ImageFile(m.name, m.size, layer.label, dest)

        def drop(value: object) -> None:
            if isinstance(value, ImageFile):
                value.spooled.unlink(missing_ok=True)

        tree = _walk(image.layers, spool, drop, limits)
        found = sorted(((p, v) for p, v in tree.items() if isinstance(v, ImageFile)), key=lambda pv: pv[0])
        for path, f in found:
            yield ImageFile(display_name(path), f.size, f.layer, f.spooled)
