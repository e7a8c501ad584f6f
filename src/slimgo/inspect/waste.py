"""Wasted bytes with dive's definitions, plus what dive does not show (duplicates, caches, stray sources).

dive (github.com/wagoodman/dive, filetree/efficiency.go and image/image.go) builds one tree per layer and
visits its leaves (nodes without children, implicit parents included). A leaf's size is its tar header
size; a whiteout leaf weighs 0, or the total size of the directory it deletes, measured in the layers
below it. Per path: the sum of its sizes over every layer it is a leaf in, and the smallest of them.
- efficiency = sum of the smallest sizes / sum of the sums (1.0 when nothing weighs anything);
- wasted bytes = the sums of the paths that are leaves in two or more layers (so an overwritten or
  deleted file is counted in every layer it appears in, its first copy included);
- a layer's size is the sum of its entries' header sizes; user wasted percent = wasted / the size of
  every layer but the first.
dive stacks the layers below a whiteout by replaying each layer's nodes in its visiting order (children by
name, a directory after its children); an implicit parent (a directory with no entry of its own in that
layer) replaces the directory's size and type with empty ones; the layers below the first one are a copy
of the first one; and a whiteout of a path that does not exist below stops the scoring of the rest of its
layer, leaving that path's record at count 0 and minimum -1 (which dive then adds into its sum). All of
that is reproduced, so the numbers agree on malformed images too (tests/integration/test_inspect.py).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .fs import FileSystem
from .model import DIR, FILE, NOT_WHITEOUT, OPAQUE, WHITEOUT, Entry, ImageScan


@dataclass
class Inefficiency:
    path: str
    count: int
    cumulative_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "count": self.count, "bytes": self.cumulative_bytes}


@dataclass
class DiveWaste:
    efficiency: float
    wasted_bytes: int
    size_bytes: int
    user_size_bytes: int
    user_wasted_percent: float  # a ratio 0-1, as dive's WastedUserPercent (dive's CI prints it x100)
    layer_bytes: list[int]
    inefficiencies: list[Inefficiency]  # largest first

    def to_json(self, top: int = 50) -> dict[str, Any]:
        return {"efficiency": self.efficiency, "wasted_bytes": self.wasted_bytes, "size_bytes": self.size_bytes,
                "user_size_bytes": self.user_size_bytes, "user_wasted_percent": self.user_wasted_percent,
                "inefficient_files": [i.to_json() for i in self.inefficiencies[:top]],
                "inefficient_file_count": len(self.inefficiencies)}


class _DiveStack:
    """The stacked tree dive consults for a whiteout: path -> (size, is_dir), with a children index."""

    def __init__(self) -> None:
        self.info: dict[str, tuple[int, bool]] = {}
        self.kids: dict[str, set[str]] = defaultdict(set)

    def add(self, path: str, size: int, is_dir: bool) -> None:
        self.info[path] = (size, is_dir)
        while path != "/":
            parent = posixpath.dirname(path)
            if path in self.kids[parent]:
                break
            self.kids[parent].add(path)
            if parent != "/" and parent not in self.info:
                self.info[parent] = (0, False)
            path = parent

    def _walk(self, path: str) -> list[str]:
        out, stack = [], [path]
        while stack:
            p = stack.pop()
            out.append(p)
            stack.extend(self.kids.get(p, ()))
        return out

    def remove(self, path: str) -> None:
        if path not in self.info:
            return
        for p in self._walk(path):
            self.info.pop(p, None)
            self.kids.pop(p, None)
        self.kids[posixpath.dirname(path)].discard(path)

    def deleted_size(self, path: str) -> int:
        got = self.info.get(path)
        if got is None or not got[1]:
            return 0
        return sum(self.info.get(p, (0, False))[0] for p in self._walk(path))


def _layer_tree(entries: list[Entry]) -> tuple[dict[str, Entry | None], set[str]]:
    """dive's nodes for one layer (key -> entry, None for implicit parents) and the keys that are parents."""
    nodes: dict[str, Entry | None] = {}
    for e in entries:
        if e.whiteout == OPAQUE:
            nodes.setdefault(e.path, None)  # dive drops the marker but keeps the parents it created
        elif e.whiteout == WHITEOUT:
            nodes[posixpath.join(posixpath.dirname(e.path), e.dive_name)] = e
        else:
            nodes[e.path] = e
    parents: set[str] = set()
    for key in list(nodes):
        p = posixpath.dirname(key)
        while p != "/" and p not in parents:
            parents.add(p)
            nodes.setdefault(p, None)
            p = posixpath.dirname(p)
    return nodes, parents


def _post_order(key: str) -> tuple[str, ...]:
    """dive's visiting order: children by name, each directory after its children."""
    return (*key.split("/")[1:], "\U0010ffff")


def _stack_layer(stack: _DiveStack, nodes: dict[str, Entry | None], order: list[str], copy: bool = False) -> None:
    """dive's Stack: every node in visiting order; a whiteout removes, anything else (an implicit parent
    too, with an empty payload) replaces. `copy` adds the nodes as they are, whiteout nodes by their own name."""
    for key in order:
        e = nodes[key]
        if e is None:
            stack.add(key, 0, False)
        elif e.whiteout == WHITEOUT and not copy:
            stack.remove(e.path)
        else:
            stack.add(key, e.size, e.kind == DIR)


def dive_waste(scan: ImageScan) -> DiveWaste:
    per_path: dict[str, list[int]] = {}  # path -> [count, cumulative, minimum]
    stack = _DiveStack()
    layer_bytes = [layer.dive_bytes for layer in scan.layers]
    for layer in scan.layers:
        nodes, parents = _layer_tree(layer.entries)
        order = sorted(nodes, key=_post_order)
        if layer.index == 0:  # dive's "layers below" the first layer are a copy of the first layer itself
            _stack_layer(stack, nodes, order, copy=True)
        for key in order:
            if key in parents:
                continue
            e = nodes[key]
            path = e.path if e is not None and e.whiteout == WHITEOUT else key
            rec = per_path.setdefault(path, [0, 0, -1])  # dive's record starts with "no minimum yet" (-1)
            if e is not None and e.whiteout == WHITEOUT:
                if path not in stack.info:
                    break  # dive's visit fails here: the -1 stays in its sum, and the layer's remaining leaves are skipped
                size = stack.deleted_size(path)
            else:
                size = e.size if e is not None else 0
            rec[0] += 1
            rec[1] += size
            if rec[2] < 0 or size < rec[2]:
                rec[2] = size
        _stack_layer(stack, nodes, order)
    minimum = sum(r[2] for r in per_path.values())
    discovered = sum(r[1] for r in per_path.values())
    ineff = sorted((Inefficiency(p, r[0], r[1]) for p, r in per_path.items() if r[0] >= 2),
                   key=lambda i: (-i.cumulative_bytes, i.path))
    wasted = sum(i.cumulative_bytes for i in ineff)
    user = sum(layer_bytes[1:])
    return DiveWaste(efficiency=minimum / discovered if discovered else 1.0, wasted_bytes=wasted,
                     size_bytes=sum(layer_bytes), user_size_bytes=user,
                     user_wasted_percent=wasted / user if user else 0.0, layer_bytes=layer_bytes, inefficiencies=ineff)


@dataclass
class Group:
    kind: str
    path: str
    files: int = 0
    bytes: int = 0
    where: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "path": self.path, "files": self.files, "bytes": self.bytes}
        if self.where:
            d["where"] = self.where
        return d


def duplicates(scan: ImageScan, top: int = 20) -> tuple[int, list[Group]]:
    """The same content stored more than once (any path, any layer): bytes beyond the first copy."""
    seen: dict[bytes, list[Entry]] = defaultdict(list)
    for layer in scan.layers:
        for e in layer.entries:
            if e.kind == FILE and e.whiteout == NOT_WHITEOUT and e.digest is not None and e.size > 0:
                seen[e.digest].append(e)
    groups = []
    for same in seen.values():
        if len(same) > 1:
            g = Group("duplicate", same[0].path, len(same), (len(same) - 1) * same[0].size,
                      [f"layer {e.layer}: {e.path}" for e in same[:10]])
            groups.append(g)
    groups.sort(key=lambda g: (-g.bytes, g.path))
    return sum(g.bytes for g in groups), groups[:top]


PKG_CACHES = ("/var/cache/apt/", "/var/lib/apt/lists/", "/var/cache/apk/", "/etc/apk/cache/", "/var/cache/yum/",
              "/var/cache/dnf/", "/var/cache/pacman/pkg/", "/var/cache/zypp/", "/usr/local/share/.cache/yarn/")
HOME_PKG_CACHES = ("/.cache/pip/", "/.npm/_cacache/", "/.cache/yarn/", "/.cargo/registry/", "/.m2/repository/",
                   "/.gradle/caches/")
GO_CACHES = (("go build cache", "/.cache/go-build/"), ("go module cache", "/pkg/mod/"))


def _source_root(path: str) -> str:
    """Go sources are grouped by their first three directories (/app, /usr/local/go, /src/github.com)."""
    parts = path.split("/")[1:-1]
    return "/" + "/".join(parts[:3])


def _root_of(path: str, marker: str) -> str:
    i = path.find(marker)
    return path[: i + len(marker) - 1]


def clutter(fs: FileSystem) -> list[Group]:
    """Files a .dockerignore or a cache clean-up would normally keep out, grouped by where they live."""
    goroots = tuple(fs.goroots())
    groups: dict[tuple[str, str], Group] = {}

    def count(kind: str, root: str, e: Entry) -> None:
        g = groups.setdefault((kind, root), Group(kind, root))
        g.files += 1
        g.bytes += e.size

    for path, e in fs.entries.items():
        if e.kind != FILE:
            continue
        go_cache = next(((k, m) for k, m in GO_CACHES if m in path), None)
        if go_cache is not None:
            count(go_cache[0], _root_of(path, go_cache[1]), e)
            continue
        pkg = next((p for p in PKG_CACHES if path.startswith(p)), None) or \
            next((p for p in HOME_PKG_CACHES if p in path), None)
        if pkg is not None:
            count("package manager cache", _root_of(path, pkg) if pkg in HOME_PKG_CACHES else pkg.rstrip("/"), e)
            continue
        if goroots and path.startswith(goroots):
            continue
        if "/.git/" in path:
            count(".git directory", _root_of(path, "/.git/"), e)
        elif "/node_modules/" in path:
            count("node_modules", _root_of(path, "/node_modules/"), e)
        elif "/testdata/" in path:
            count("test data", _root_of(path, "/testdata/"), e)
        elif path.endswith(".go"):
            count("Go source", _source_root(path), e)
        elif posixpath.basename(path) in ("go.sum", "go.mod", "Dockerfile", ".dockerignore"):
            count("build file", path, e)
    return sorted(groups.values(), key=lambda g: (-g.bytes, g.kind, g.path))
