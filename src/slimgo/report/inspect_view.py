"""`slimgo inspect` for people: a terminal view and a self-contained HTML page (inline CSS and SVG, no
scripts), both drawn from the JSON document so all three outputs say the same thing."""

from __future__ import annotations

import html
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .compare_view import CSS as COMPARE_CSS
from .units import human_bytes, pct

TOP = 10


def _short(text: str, n: int = 70) -> str:
    """One line, without the builder's `/bin/sh -c #(nop) ` noise, cut to n characters."""
    text = " ".join(text.split()).removeprefix("/bin/sh -c ").removeprefix("#(nop) ")
    return text if len(text) <= n else text[: n - 1] + "…"


def _surface_rows(s: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(what, finding, is_a_problem) for each surface item."""
    def listing(items: list[str]) -> str:
        return ", ".join(items[:6]) + (f" (+{len(items) - 6} more)" if len(items) > 6 else "") if items else "none"

    user = s["user"]
    who = user["name"] or "(unset)"
    rows = [("shells", listing(s["shells"]), bool(s["shells"])),
            ("package managers", listing(s["package_managers"]), bool(s["package_managers"])),
            ("interpreters", listing(s["interpreters"]), bool(s["interpreters"])),
            ("setuid", listing(s["setuid"]), bool(s["setuid"])),
            ("setgid", listing(s["setgid"]), bool(s["setgid"])),
            ("world-writable (no sticky bit)", listing(s["world_writable"]), bool(s["world_writable"])),
            ("file capabilities", listing(s["capabilities"]), bool(s["capabilities"])),
            ("user", f"{who}: {'root' if user['root'] else 'not root'}"
                     f"{'' if user['numeric'] else ', by name'}{'; ' + user['note'] if user['note'] else ''}",
             bool(user["root"])),
            ("exposed ports", listing(s["exposed_ports"]), False),
            ("secrets", listing([f"{x['kind']}: {x['name']} ({x['location']}"
                                 f"{', deleted later but still in the image' if x['deleted_later'] else ''})"
                                 for x in s["secrets"]]), bool(s["secrets"]))]
    return rows


def attached_line(att: dict[str, Any]) -> str:
    """`attestations` (supplychain.referrers.Attested) in one line; shared by inspect and analyze."""
    if att["sbom"] is None:  # the store keeps no referrers (the engine), or they could not be read
        return f"[bold]Attached[/]: unknown ({escape(att['checked'])})"
    sig = {True: "signed (cosign .sig tag)", False: "no signature", None: "signature not checked"}[att["signature"]]
    signed = {True: " · signed attestations (cosign .att tag)", False: "", None: ""}[att.get("signed_attestations")]
    return (f"[bold]Attached[/]: SBOM {', '.join(att['sbom']) or 'none'} · provenance "
            f"{'yes' if att['provenance'] else 'none'} · {sig}{signed}")


def render(doc: dict[str, Any], console: Console) -> None:
    t = doc["totals"]
    console.print(f"[bold]{doc['image']}[/] {doc['platform']}  {t['layers']} layers · pull "
                  f"{human_bytes(t['compressed_bytes'])} · unpacked {human_bytes(t['uncompressed_bytes'])} · "
                  f"{t['files']} files, {human_bytes(t['file_bytes'])}")
    att = doc.get("attestations")
    if att is not None:
        console.print(attached_line(att))
    if doc["debug_image"]:
        console.print("[bold yellow]debug image[/] (label dev.slimgo.debug=true): built for debugging, not for "
                      "production")
    layers = Table(title="Layers", title_justify="left")
    for col in ("#", "created by", "pull", "size", "added", "changed", "removed"):
        if col == "created by":
            layers.add_column(col, no_wrap=True, overflow="ellipsis", max_width=48)
        else:
            layers.add_column(col, justify="right", no_wrap=True)
    for x in doc["layers"]:
        layers.add_row(str(x["index"]), _short(x["created_by"] or "(no history)"), human_bytes(x["compressed_bytes"]),
                       human_bytes(x["size_bytes"]), f"{x['added']} ({human_bytes(x['added_bytes'])})",
                       f"{x['changed']} ({human_bytes(x['changed_bytes'])})",
                       f"{x['removed']} ({human_bytes(x['removed_bytes'])})")
    console.print(layers)
    w = doc["waste"]["dive"]
    console.print(f"[bold]Waste[/] (dive's definitions): efficiency {w['efficiency'] * 100:.4f}% · wasted "
                  f"{human_bytes(w['wasted_bytes'])} ({w['wasted_bytes']} bytes) · user wasted "
                  f"{w['user_wasted_percent'] * 100:.4f}%")
    for f in w["inefficient_files"][:TOP]:
        console.print(f"  {human_bytes(f['bytes']):>11}  ×{f['count']}  {f['path']}")
    dup = doc["waste"]["duplicates"]
    if dup["bytes"]:
        console.print(f"[bold]Duplicate content[/] (same bytes stored more than once): {human_bytes(dup['bytes'])}")
        for g in dup["groups"][:5]:
            console.print(f"  {human_bytes(g['bytes']):>11}  ×{g['files']}  {'; '.join(g['where'][:3])}")
    for g in doc["waste"]["clutter"][:TOP]:
        console.print(f"  [yellow]{g['kind']}[/] {g['path']}: {g['files']} files, {human_bytes(g['bytes'])}")
    table = Table(title="Attack surface", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("finding")
    for what, finding, bad in _surface_rows(doc["surface"]):
        table.add_row(what, f"[{'red' if bad else 'green'}]{finding}[/]")
    console.print(table)
    st = doc["start"]
    verdict = "[green]will start[/]" if st["will_start"] else "[bold red]will not start[/]"
    console.print(f"[bold]Start[/]: {' '.join(st['argv']) or '(nothing to run)'} → {verdict}")
    for p in st["problems"]:
        console.print(f"  [red]✗[/] {p}")
    for p in st["warnings"]:
        console.print(f"  [yellow]![/] {p}")
    failing = [b for b in st["binaries"] if not b["starts"]]
    console.print(f"  {len(st['binaries'])} programs checked, {len(failing)} would not start "
                  f"({st['shared_libraries']} shared libraries)")
    for b in failing[:TOP]:
        why = b["wrong_arch"] or f"missing {', '.join(b['missing'])}"
        console.print(f"  [red]✗[/] {b['path']}: {why}")
    if doc["go_binaries"]:
        gt = Table(title="Go binaries", title_justify="left")
        for col in ("path", "go", "main module", "deps", "trimpath", "-s -w", "cgo", "debug"):
            gt.add_column(col)
        for g in doc["go_binaries"]:
            gt.add_row(g["path"], g["go_version"], f"{g['main_module'] or g['main_package']} {g['main_version']}",
                       str(len(g["dependencies"])), *("yes" if g[k] else "no" for k in ("trimpath", "stripped", "cgo",
                                                                                        "debug")))
        console.print(gt)
    if "tree" in doc:
        console.print(f"[bold]Tree[/] of {doc['tree']['scope']}")
        for row in doc["tree"]["entries"]:
            link = f" → {row['link']}" if "link" in row else ""
            gone = f" [red]({row['whiteout']})[/]" if "whiteout" in row else ""
            console.print(f"{human_bytes(row['bytes']):>11} {row['mode']} {row['uid']}:{row['gid']} "
                          f"{row['path']}{'/' if row['kind'] == 'dir' else ''}{link}{gone}", markup=True)
    render_ci(doc, console)


def render_ci(doc: dict[str, Any], console: Console) -> None:
    if "ci" not in doc:
        return
    console.print(f"[bold]CI[/]: {'[green]PASS[/]' if doc['ci']['passed'] else '[bold red]FAIL[/]'}")
    for r in doc["ci"]["rules"]:
        mark = {"pass": "[green]PASS[/]", "fail": "[bold red]FAIL[/]", "skip": "[dim]SKIP[/]"}[r["status"]]
        console.print(f"  {mark} {r['rule']}: {r['detail']}")


def render_diff(d: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]{d['old']}[/] → [bold]{d['new']}[/]")
    for key, v in d["totals"].items():
        sign = "+" if v["delta"] > 0 else ""
        val = (lambda n: human_bytes(n)) if key.endswith("bytes") else str
        console.print(f"  {key}: {val(v['old'])} → {val(v['new'])} ({sign}{val(v['delta'])})")
    lay = d["layers"]
    console.print(f"  layers shared: {lay['shared']}, only in old: {len(lay['only_old'])}, only in new: "
                  f"{len(lay['only_new'])}")
    for x in lay["only_new"]:
        console.print(f"    + {human_bytes(x['bytes']):>11} {_short(x['created_by'] or '(no history)')}")
    f = d["files"]
    console.print(f"  files: +{f['added']} ({human_bytes(f['added_bytes'])}), -{f['removed']} "
                  f"({human_bytes(f['removed_bytes'])}), ~{f['changed']} ({human_bytes(f['changed_bytes'])})")
    for r in f["top_added"][:TOP]:
        console.print(f"    + {human_bytes(r['bytes']):>11} {r['path']}")
    for r in f["top_removed"][:TOP]:
        console.print(f"    - {human_bytes(r['bytes']):>11} {r['path']}")
    for r in f["top_changed"][:TOP]:
        console.print(f"    ~ {human_bytes(r['delta']):>11} {r['path']}")
    for key, v in d["surface"].items():
        if "added" in v:
            changes = [f"+{x}" for x in v["added"]] + [f"-{x}" for x in v["removed"]]
            console.print(f"  {key.replace('_', ' ')}: {', '.join(changes)}")
        else:
            console.print(f"  {key}: {v['old'] or '(unset)'} → {v['new'] or '(unset)'}")
    ws = d["will_start"]
    if ws["old"] != ws["new"]:
        console.print(f"  will start: {ws['old']} → {ws['new']}")


CSS = COMPARE_CSS + """
td.l,th.l{text-align:left}.warn{background:#fff6e0;border:1px solid #f0d48a;padding:.6rem 1rem;border-radius:6px}
.bad{color:#c95b5b}.good{color:#2e9d5b}
"""


def _layer_chart(doc: dict[str, Any]) -> str:
    rows = doc["layers"]
    width, bar_h, gap, label_w = 720, 18, 6, 60
    top = max([x["size_bytes"] for x in rows] + [1])
    height = 30 + len(rows) * (bar_h + gap)
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             'aria-label="Layer sizes"><text x="0" y="16" class="title">Layer sizes</text>']
    for i, x in enumerate(rows):
        y = 28 + i * (bar_h + gap)
        w = max(1, int((width - label_w - 120) * x["size_bytes"] / top))
        parts.append(f'<text x="0" y="{y + 13}" class="label">layer {x["index"]}</text>'
                     f'<rect class="bar" x="{label_w}" y="{y}" width="{w}" height="{bar_h}" rx="3"/>'
                     f'<text x="{label_w + w + 6}" y="{y + 13}" class="value">{human_bytes(x["size_bytes"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(header: str, rows: str, empty: str) -> str:
    return f"<table>{header}{rows}</table>" if rows else f'<p class="note">{html.escape(empty)}</p>'


def html_report(doc: dict[str, Any]) -> str:
    e = html.escape
    t = doc["totals"]
    w = doc["waste"]["dive"]
    head = (f"<p>{e(doc['platform'])} · {t['layers']} layers · pull {e(human_bytes(t['compressed_bytes']))} · unpacked "
            f"{e(human_bytes(t['uncompressed_bytes']))} · {t['files']} files</p>")
    if doc["debug_image"]:
        head += '<p class="warn">Debug image (label <code>dev.slimgo.debug=true</code>): not for production.</p>'
    layers = ['<table><tr><th>#</th><th class="l">created by</th><th>pull</th><th>size</th><th>added</th>'
              '<th>changed</th><th>removed</th></tr>']
    for x in doc["layers"]:
        layers.append(f'<tr><td>{x["index"]}</td><td class="l"><code>{e(_short(x["created_by"] or "(no history)", 90))}'
                      f'</code></td><td>{e(human_bytes(x["compressed_bytes"]))}</td><td>{e(human_bytes(x["size_bytes"]))}'
                      f'</td><td>{x["added"]}</td><td>{x["changed"]}</td><td>{x["removed"]}</td></tr>')
    layers.append("</table>")
    ineff = "".join(f'<tr><td class="l">{e(f["path"])}</td><td>{f["count"]}</td><td>{e(human_bytes(f["bytes"]))}</td></tr>'
                    for f in w["inefficient_files"][:20])
    clutter = "".join(f'<tr><td class="l">{e(g["kind"])}</td><td class="l">{e(g["path"])}</td><td>{g["files"]}</td>'
                      f'<td>{e(human_bytes(g["bytes"]))}</td></tr>' for g in doc["waste"]["clutter"][:20])
    surf = "".join(f'<tr><td class="l">{e(what)}</td><td class="l {"bad" if bad else "good"}">{e(finding)}</td></tr>'
                   for what, finding, bad in _surface_rows(doc["surface"]))
    st = doc["start"]
    start = (f'<p class="{"good" if st["will_start"] else "bad"}"><b>{"Will start" if st["will_start"] else "Will not start"}'
             f'</b>: <code>{e(" ".join(st["argv"]))}</code></p>'
             + "".join(f'<p class="bad">✗ {e(p)}</p>' for p in st["problems"])
             + "".join(f'<p class="note">! {e(p)}</p>' for p in st["warnings"])
             + "".join(f'<p class="bad">✗ {e(b["path"])}: {e(b["wrong_arch"] or "missing " + ", ".join(b["missing"]))}</p>'
                       for b in st["binaries"] if not b["starts"]))
    gos = "".join(f'<tr><td class="l">{e(g["path"])}</td><td>{e(g["go_version"])}</td><td class="l">'
                  f'{e((g["main_module"] or g["main_package"]) + " " + g["main_version"])}</td><td>{len(g["dependencies"])}</td>'
                  + "".join(f'<td>{"yes" if g[k] else "no"}</td>' for k in ("trimpath", "stripped", "cgo", "debug"))
                  + "</tr>" for g in doc["go_binaries"])
    ci = ""
    if "ci" in doc:
        ci = "<h2>CI</h2><table>" + "".join(
            f'<tr><td class="l">{e(r["rule"])}</td><td class="{ {"pass": "pass", "fail": "fail", "skip": "na"}[r["status"]]}">'
            f'{r["status"].upper()}</td><td class="l">{e(r["detail"])}</td></tr>' for r in doc["ci"]["rules"]) + "</table>"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>slimgo inspect: {e(doc["image"])}</title>'
            f"<style>{CSS}</style></head><body><h1>slimgo inspect: {e(doc['image'])}</h1>{head}"
            f"<h2>Layers</h2>{_layer_chart(doc)}{''.join(layers)}"
            f"<h2>Waste</h2><p>Efficiency {w['efficiency'] * 100:.4f}% · wasted {e(human_bytes(w['wasted_bytes']))} · user "
            f"wasted {w['user_wasted_percent'] * 100:.4f}% (dive's definitions) · duplicate content "
            f"{e(human_bytes(doc['waste']['duplicates']['bytes']))} · share of the image wasted "
            f"{e(pct(w['wasted_bytes'], w['size_bytes']))}</p>"
            + _table('<tr><th class="l">path</th><th>copies</th><th>bytes</th></tr>', ineff,
                     "no path is stored in more than one layer")
            + _table('<tr><th class="l">kind</th><th class="l">where</th><th>files</th><th>bytes</th></tr>', clutter,
                     "no caches, sources or build files found") +
            f"<h2>Attack surface</h2><table>{surf}</table><h2>Will it start?</h2>{start}"
            + "<h2>Go binaries</h2>"
            + _table('<tr><th class="l">path</th><th>go</th><th class="l">main module</th><th>deps</th>'
                     "<th>trimpath</th><th>-s -w</th><th>cgo</th><th>debug</th></tr>", gos, "no Go binaries")
            + f"{ci}"
            f'<p class="note">Every number on this page was read from the image\'s layers; secrets are named, never '
            f"shown.</p></body></html>\n")
