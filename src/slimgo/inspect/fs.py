"""The final filesystem of an image (whiteouts applied) and what each layer added, changed and removed.

Whiteouts and opaque markers only hide lower layers (OCI image spec), so each layer's deletions are
applied before its additions. Symlinks are resolved inside the image's own namespace (`/..` is `/`),
never on the host.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from .model import DIR, FILE, HARDLINK, NOT_WHITEOUT, OPAQUE, SYMLINK, WHITEOUT, Entry, ImageScan

MAX_HOPS = 40  # the kernel's limit on symlinks followed in one lookup


@dataclass
class LayerDelta:
    added: int = 0
    added_bytes: int = 0
    changed: int = 0
    changed_bytes: int = 0
    removed: int = 0
    removed_bytes: int = 0
    unchanged: int = 0  # rewritten with the same content and metadata

    def to_json(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class FileSystem:
    entries: dict[str, Entry] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=lambda: {"/": set()})

    def _link_parent(self, path: str) -> None:
        while path != "/":
            parent = posixpath.dirname(path)
            kids = self.children.setdefault(parent, set())
            if path in kids:
                return
            kids.add(path)
            path = parent

    def remove_tree(self, path: str, keep_root: bool = False) -> list[Entry]:
        gone: list[Entry] = []
        stack = list(self.children.get(path, ())) if keep_root else [path]
        if keep_root:
            self.children[path] = set()
        elif path != "/":
            self.children.get(posixpath.dirname(path), set()).discard(path)
        while stack:
            p = stack.pop()
            e = self.entries.pop(p, None)
            if e is not None:
                gone.append(e)
            stack.extend(self.children.pop(p, ()))
        return gone

    def put(self, entry: Entry) -> None:
        self.entries[entry.path] = entry
        self._link_parent(entry.path)
        if entry.kind == DIR:
            self.children.setdefault(entry.path, set())

    def is_dir(self, path: str) -> bool:
        e = self.entries.get(path)
        return e.kind == DIR if e is not None else path in self.children

    def resolve(self, path: str, follow_last: bool = True) -> str | None:
        """The symlink-free path that `path` names in the image, or None if it does not exist."""
        stack = list(reversed(path.split("/")))
        cur, hops = "/", 0
        while stack:
            name = stack.pop()
            if name in ("", "."):
                continue
            if name == "..":
                cur = posixpath.dirname(cur)
                continue
            nxt = posixpath.join(cur, name)
            e = self.entries.get(nxt)
            if e is not None and e.kind == SYMLINK and (stack or follow_last):
                hops += 1
                if hops > MAX_HOPS:
                    return None
                if e.link.startswith("/"):
                    cur = "/"
                stack.extend(reversed(e.link.split("/")))
                continue
            if e is None and nxt not in self.children:
                return None
            cur = nxt
        return cur

    def lookup(self, path: str) -> Entry | None:
        """The entry a path names after symlinks (and a hard link's target), or None."""
        real = self.resolve(path)
        if real is None:
            return None
        e = self.entries.get(real)
        if e is not None and e.kind == HARDLINK:
            return self.entries.get(e.link, e)
        return e

    def exists(self, path: str) -> bool:
        return self.resolve(path) is not None

    def goroots(self) -> list[str]:
        """Toolchain trees (bin/go next to src/runtime), with the real path of a symlinked src (Debian's
        /usr/lib/go-1.19/src -> /usr/share/go-1.19/src): their sources and test data are the toolchain."""
        roots = []
        for path, e in self.entries.items():
            if path.endswith("/bin/go") and e.kind in (FILE, SYMLINK, HARDLINK):
                root = path[:-len("/bin/go")]
                src = self.resolve(root + "/src")
                if src is not None and self.is_dir(src + "/runtime"):
                    roots += [root + "/", src + "/"]
        return roots

    def files(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.kind == FILE]


def _same(a: Entry, b: Entry) -> bool:
    return (a.kind, a.digest, a.mode, a.uid, a.gid, a.link, a.size) == (b.kind, b.digest, b.mode, b.uid, b.gid, b.link,
                                                                      b.size)


def build(scan: ImageScan, upto: int | None = None) -> tuple[FileSystem, list[LayerDelta]]:
    """The filesystem after layer `upto` (default: all), and each layer's delta against the ones below."""
    fs = FileSystem()
    deltas: list[LayerDelta] = []
    for layer in scan.layers[: None if upto is None else upto + 1]:
        d = LayerDelta()
        for e in layer.entries:
            if e.whiteout == NOT_WHITEOUT:
                continue
            gone = fs.remove_tree(e.path, keep_root=e.whiteout == OPAQUE) if e.whiteout in (WHITEOUT, OPAQUE) else []
            d.removed += len(gone)
            d.removed_bytes += sum(g.size for g in gone if g.kind == FILE)
        for e in layer.entries:
            if e.whiteout != NOT_WHITEOUT:
                continue
            old = fs.entries.get(e.path)
            if old is None:
                d.added += 1
                d.added_bytes += e.size if e.kind == FILE else 0
            elif _same(old, e):
                d.unchanged += old.kind != DIR
            else:
                if old.kind == DIR and e.kind != DIR:
                    gone = fs.remove_tree(e.path)
                    d.removed += len(gone) - 1
                    d.removed_bytes += sum(g.size for g in gone if g.kind == FILE and g.path != e.path)
                d.changed += 1
                d.changed_bytes += e.size if e.kind == FILE else 0
            fs.put(e)
        deltas.append(d)
    return fs, deltas
