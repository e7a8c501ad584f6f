"""`--diff OTHER`: what changed between two inspections, for "why did my image grow?"."""

from __future__ import annotations

from typing import Any

from .core import SCHEMA_VERSION, Inspection
from .model import FILE

SURFACE_LISTS = ("shells", "package_managers", "interpreters", "setuid", "setgid", "world_writable", "capabilities",
                 "exposed_ports")


def _delta(old: int, new: int) -> dict[str, int]:
    return {"old": old, "new": new, "delta": new - old}


def diff(old: Inspection, new: Inspection, top: int = 50) -> dict[str, Any]:
    a, b = old.doc, new.doc
    old_digests = {x["digest"] for x in a["layers"]}
    new_digests = {x["digest"] for x in b["layers"]}
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for path, e in new.fs.entries.items():
        if e.kind != FILE:
            continue
        o = old.fs.entries.get(path)
        if o is None or o.kind != FILE:
            added.append({"path": path, "bytes": e.size})
        elif o.digest != e.digest or o.mode != e.mode:
            changed.append({"path": path, "old": o.size, "new": e.size, "delta": e.size - o.size})
    for path, o in old.fs.entries.items():
        n = new.fs.entries.get(path)
        if o.kind == FILE and (n is None or n.kind != FILE):
            removed.append({"path": path, "bytes": o.size})
    added.sort(key=lambda r: (-r["bytes"], r["path"]))
    removed.sort(key=lambda r: (-r["bytes"], r["path"]))
    changed.sort(key=lambda r: (-abs(r["delta"]), r["path"]))
    surface = {}
    for key in SURFACE_LISTS:
        was, now = set(a["surface"][key]), set(b["surface"][key])
        if was != now:
            surface[key] = {"added": sorted(now - was), "removed": sorted(was - now)}
    sec_old = {(s["name"], s["kind"]) for s in a["surface"]["secrets"]}
    sec_new = {(s["name"], s["kind"]) for s in b["surface"]["secrets"]}
    if sec_old != sec_new:
        surface["secrets"] = {"added": sorted(f"{n} ({k})" for n, k in sec_new - sec_old),
                              "removed": sorted(f"{n} ({k})" for n, k in sec_old - sec_new)}
    if a["surface"]["user"] != b["surface"]["user"]:
        surface["user"] = {"old": a["surface"]["user"]["name"], "new": b["surface"]["user"]["name"]}
    return {
        "schema_version": SCHEMA_VERSION, "old": a["image"], "new": b["image"],
        "totals": {k: _delta(a["totals"][k], b["totals"][k]) for k in a["totals"]},
        "wasted_bytes": _delta(a["waste"]["dive"]["wasted_bytes"], b["waste"]["dive"]["wasted_bytes"]),
        "layers": {"shared": sum(1 for x in b["layers"] if x["digest"] in old_digests),
                   "only_old": [{"index": x["index"], "created_by": x["created_by"], "bytes": x["uncompressed_bytes"]}
                                for x in a["layers"] if x["digest"] not in new_digests],
                   "only_new": [{"index": x["index"], "created_by": x["created_by"], "bytes": x["uncompressed_bytes"]}
                                for x in b["layers"] if x["digest"] not in old_digests]},
        "files": {"added": len(added), "added_bytes": sum(r["bytes"] for r in added),
                  "removed": len(removed), "removed_bytes": sum(r["bytes"] for r in removed),
                  "changed": len(changed), "changed_bytes": sum(r["delta"] for r in changed),
                  "top_added": added[:top], "top_removed": removed[:top], "top_changed": changed[:top]},
        "surface": surface,
        "will_start": {"old": a["start"]["will_start"], "new": b["start"]["will_start"]},
        "go_binaries": {"old": [(g["path"], g["go_version"], g["main_version"]) for g in a["go_binaries"]],
                        "new": [(g["path"], g["go_version"], g["main_version"]) for g in b["go_binaries"]]},
    }
