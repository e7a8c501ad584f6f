"""`slimgo inspect` as a library call: scan once, then every view, as one JSON-ready document."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..debug.image import LABEL as DEBUG_LABEL
from ..errors import BadInput
from ..platform import Platform
from . import fs as fs_mod
from . import goview, read, startcheck, waste
from . import surface as surface_mod
from .model import DIR, FILE, Entry, ImageScan
from .source import labels, open_ref

SCHEMA_VERSION = 1


@dataclass
class Inspection:
    scan: ImageScan
    fs: fs_mod.FileSystem
    doc: dict[str, Any] = field(default_factory=dict)


def _tree(entries: list[Entry]) -> list[dict[str, Any]]:
    """Entries sorted by path; a directory's `bytes` is the total of the files below it."""
    totals: dict[str, int] = {}
    for e in entries:
        if e.kind == FILE:
            p = e.path
            while p != "/":
                p = p.rsplit("/", 1)[0] or "/"
                totals[p] = totals.get(p, 0) + e.size
    rows = []
    for e in sorted(entries, key=lambda x: x.path):
        row = {"path": e.path, "kind": {"f": "file", "d": "dir", "l": "symlink", "h": "hardlink"}.get(e.kind, "other"),
               "bytes": totals.get(e.path, 0) if e.kind == DIR else e.size, "mode": f"{e.mode & 0o7777:04o}",
               "uid": e.uid, "gid": e.gid}
        if e.link:
            row["link"] = e.link
        if e.whiteout:
            row["whiteout"] = "opaque" if e.whiteout == 2 else "deleted"
        rows.append(row)
    return rows


def _attestations(ref: str, platform: str) -> dict[str, Any]:
    """SBOM, provenance and signature referring to the image (supplychain/referrers: untrusted, bounded)."""
    from ..registries import RegistryPool
    from ..supplychain.referrers import attested

    try:
        plat = Platform.parse(platform)
    except BadInput:
        plat = None
    return attested(ref, RegistryPool(), plat).to_json()


def inspect(ref: str, platform: Platform | None = None, tree: bool = False, layer: int | None = None,
            progress: Callable[[str], None] | None = None, limits: read.Limits | None = None) -> Inspection:
    started = time.perf_counter()
    with open_ref(ref, platform) as image:
        scan = read.scan(image, limits or read.Limits(), progress)
    scanned = time.perf_counter()
    if layer is not None and not 0 <= layer < len(scan.layers):
        raise BadInput(f"--layer {layer}: the image has layers 0-{len(scan.layers) - 1}")
    if progress:
        progress("analysing")
    fs, deltas = fs_mod.build(scan)
    dive = waste.dive_waste(scan)
    dup_bytes, dup_groups = waste.duplicates(scan)
    clutter = waste.clutter(fs)
    surf = surface_mod.surface(scan, fs)
    start = startcheck.check(scan, fs)
    gos = goview.go_binaries(scan, fs)
    cfg = scan.config.get("config") or {}
    lbl = labels(scan.config)
    final_files = fs.files()
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "image": ref, "platform": scan.platform,
        "manifest_digest": scan.manifest_digest or None,
        "debug_image": lbl.get(DEBUG_LABEL) == "true",
        "config": {"user": str(cfg.get("User") or ""), "entrypoint": cfg.get("Entrypoint") or [],
                   "cmd": cfg.get("Cmd") or [], "workdir": cfg.get("WorkingDir") or "",
                   "env_names": sorted({str(x).partition("=")[0] for x in cfg.get("Env") or []}),
                   "labels": lbl},
        "totals": {"layers": len(scan.layers), "compressed_bytes": sum(x.compressed_bytes for x in scan.layers),
                   "uncompressed_bytes": sum(x.uncompressed_bytes for x in scan.layers),
                   "files": len(final_files), "file_bytes": sum(e.size for e in final_files)},
        "layers": [{"index": x.index, "digest": x.digest, "created_by": surface_mod.redact(x.created_by),
                    "compressed_bytes": x.compressed_bytes, "uncompressed_bytes": x.uncompressed_bytes,
                    "size_bytes": x.dive_bytes, "entries": len(x.entries), **d.to_json()}
                   for x, d in zip(scan.layers, deltas)],
        "waste": {"dive": dive.to_json(), "duplicates": {"bytes": dup_bytes, "groups": [g.to_json() for g in dup_groups]},
                  "clutter": [g.to_json() for g in clutter[:50]], "clutter_groups": len(clutter),
                  "clutter_bytes": sum(g.bytes for g in clutter)},
        "surface": surf.to_json(),
        "start": start.to_json(),
        "go_binaries": [g.to_json() for g in gos],
    }
    doc["attestations"] = _attestations(ref, scan.platform)
    if tree or layer is not None:
        entries = list(fs.entries.values()) if layer is None else scan.layers[layer].entries
        doc["tree"] = {"scope": "the final filesystem" if layer is None else f"layer {layer}", "entries": _tree(entries)}
    doc["timings"] = {"scan_seconds": round(scanned - started, 3),
                      "analysis_seconds": round(time.perf_counter() - scanned, 3)}
    return Inspection(scan, fs, doc)
