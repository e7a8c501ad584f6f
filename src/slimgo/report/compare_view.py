"""`slimgo compare` reports: a terminal table, Markdown, and one self-contained HTML file (inline CSS and
SVG, no scripts, no network)."""

from __future__ import annotations

import html
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .units import human_bytes

CHECK_NAMES = ("starts", "ca_roots", "tz", "dns", "user_db", "panic_file_line", "no_shell", "nonroot")
MARK = {True: "✓", False: "✗", None: "–"}


def _short(n: int | None) -> str:
    """IEC sizes with few digits (8.4 MiB, 695 KiB), so the table stays narrow."""
    if n is None:
        return "-"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}" if n / size < 100 else f"{n / size:.0f} {unit}"
    return f"{n} B"


def _mark(v: dict[str, Any], c: str) -> str:
    """A check's glyph; carried over (not run on this variant) gets a `*`."""
    return MARK[v["checks"].get(c)] + ("*" if c in v.get("carried_over", []) else "")


def _checks_cell(v: dict[str, Any]) -> str:
    """The checks in words: what failed, by name, so the column reads without a legend."""
    checks = v["checks"]
    if checks.get("starts") is False:
        return "[red]does not start[/]"
    failed = [SHORT[c] for c in CHECK_NAMES if checks.get(c) is False]
    carried = "[dim] (carried*)[/]" if v.get("carried_over") else ""
    if failed:
        return "[red]✗ " + " ".join(failed) + "[/]" + carried
    if checks.get("starts") is None:
        return "[dim]not run[/]"
    return "[green]✓ all[/]" + carried


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} ms"


SHORT = {"starts": "start", "ca_roots": "ca", "tz": "tz", "dns": "dns", "user_db": "user",
         "panic_file_line": "panic", "no_shell": "nosh", "nonroot": "nonroot"}


def render(doc: dict[str, Any], console: Console) -> None:
    t = Table(title=f"slimgo compare · {doc['target']}", title_justify="left")
    for col in ("variant", "binary", "image", "pull", "vs baseline", "start-up", "peak RSS", "checks"):
        t.add_column(col, justify="left" if col in ("variant", "checks") else "right", no_wrap=True)
    best = doc["verdict"].get("best")
    for v in doc["variants"]:
        name = f"[bold green]{v['name']}[/]" if v["name"] == best else v["name"]
        if v["skipped"]:
            t.add_row(name, "-", "-", "-", "-", "-", "-", "[dim]skipped[/]")
            continue
        red = "-" if v["reduction_pct"] is None else f"−{v['reduction_pct']}%"
        t.add_row(name, _short(v["binary_bytes"]), _short(v["image_bytes"]), _short(v["pull_bytes"]),
                  red, _ms(v["startup_ms"]), _short(v["rss_bytes"]), _checks_cell(v))
    console.print(t)
    runs = max((v.get("measured_runs") or 0 for v in doc["variants"]), default=0)
    console.print(f"[dim]start-up and peak RSS: medians of {runs} runs (spreads in --json); checks: "
                  + ", ".join(f"{SHORT[c]} = {c}" for c in CHECK_NAMES)
                  + "; * carried over from a variant with identical files (not run on this one)[/]")
    for v in doc["variants"]:
        if v.get("carried_over"):
            twin = (v["check_reasons"].get(v["carried_over"][0]) or "").split(" (")[0]
            console.print(f"[yellow]{v['name']}[/]: {', '.join(v['carried_over'])} {twin}")
    for v in doc["variants"]:
        if v["skipped"]:
            console.print(f"[dim]{v['name']}: skipped: {escape(str(v['reason']))}[/]")
        failed = [c for c in CHECK_NAMES if v["checks"].get(c) is False]
        if not failed:
            continue
        if v["checks"].get("starts") is False:
            console.print(f"[red]{v['name']}[/]: does not start: {escape(str(v['check_reasons'].get('starts', '')))}")
            if v.get("program_output_tail"):
                console.print(f"[dim]{escape(v['program_output_tail'][-600:])}[/]")
            continue
        for c in failed:
            console.print(f"[red]{v['name']}[/] {c}: {escape(str(v['check_reasons'].get(c, '')))}")
    verdict = doc["verdict"]
    if verdict.get("best"):
        console.print(f"\n[bold]verdict[/]: [green]{verdict['best']}[/] — pull {human_bytes(verdict['pull_bytes'])}, "
                      f"image {human_bytes(verdict['image_bytes'])}")
        console.print(f"  {escape(verdict['command'])}")
        for line in _prefer_lines(verdict):
            console.print(f"  [dim]{escape(line)}[/]")
        console.print(f"  Dockerfile: RUN {escape(verdict['dockerfile'])}")
        for note in verdict["compatibility"]:
            console.print(f"  [yellow]note[/]: {escape(note)}")
        if verdict.get("best_every_engine") and verdict["best_every_engine"] != verdict["best"]:
            console.print(f"  every engine can pull: [green]{verdict['best_every_engine']}[/] "
                          f"({verdict['best_every_engine_command']})")
    else:
        console.print(f"[red]no variant passed[/]: {escape(str(verdict.get('reason')))}")


def markdown(doc: dict[str, Any]) -> str:
    lines = [f"# slimgo compare: {doc['target']}", "",
             "| variant | binary | image | pull | vs baseline | start-up | peak RSS | " + " | ".join(CHECK_NAMES) + " |",
             "|" + "---|" * (7 + len(CHECK_NAMES))]
    for v in doc["variants"]:
        if v["skipped"]:
            lines.append(f"| {v['name']} | skipped: {v['reason']} |" + " |" * (6 + len(CHECK_NAMES)))
            continue
        red = "" if v["reduction_pct"] is None else f"−{v['reduction_pct']}%"
        lines.append(f"| {v['name']} | {human_bytes(v['binary_bytes'])} | {human_bytes(v['image_bytes'])} | "
                     f"{human_bytes(v['pull_bytes'])} | {red} | {_ms(v['startup_ms'])} | {human_bytes(v['rss_bytes'])} | "
                     + " | ".join(_mark(v, c) for c in CHECK_NAMES) + " |")
    verdict = doc["verdict"]
    lines += ["", "## Verdict", ""]
    if verdict.get("best"):
        lines += [f"**{verdict['best']}**: `{verdict['command']}`", "", f"Dockerfile: `RUN {verdict['dockerfile']}`"]
        lines += [f"- {n}" for n in verdict["compatibility"]]
        lines += [f"- {n}" for n in _prefer_lines(verdict)]
        if verdict.get("best_every_engine"):
            lines.append(f"- best that every engine can pull: **{verdict['best_every_engine']}**")
    else:
        lines.append(f"No variant passed: {verdict.get('reason')}")
    lines += ["", "All numbers are measured on this machine; ✓ pass, ✗ fail, – not applicable or not run; "
              "* carried over from a variant with identical files (not run on this one).", ""]
    return "\n".join(lines)


METRICS = (("image_bytes", "Image size (uncompressed)", human_bytes),
           ("pull_bytes", "Pull size (compressed layers + config)", human_bytes),
           ("startup_ms", "Start-up time (median)", _ms),
           ("rss_bytes", "Peak memory (RSS)", human_bytes))


def _chart(doc: dict[str, Any], key: str, title: str, fmt: Any) -> str:
    rows = [v for v in doc["variants"] if not v["skipped"]]
    width, bar_h, gap, label_w = 720, 22, 8, 130
    height = 30 + len(rows) * (bar_h + gap)
    top = max([v[key] or 0 for v in rows] + [1])
    best = doc["verdict"].get("best")
    parts = [f'<svg class="chart" data-metric="{key}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="16" class="title">{html.escape(title)}</text>']
    for i, v in enumerate(rows):
        y = 28 + i * (bar_h + gap)
        value = v[key]
        w = 0 if value is None else max(1, int((width - label_w - 120) * value / top))
        cls = "bar best" if v["name"] == best else ("bar fail" if not v["passes"] else "bar")
        parts.append(f'<text x="0" y="{y + 15}" class="label">{html.escape(v["name"])}</text>')
        parts.append(f'<rect class="{cls}" data-variant="{html.escape(v["name"])}" x="{label_w}" y="{y}" '
                     f'width="{w}" height="{bar_h}" rx="3"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 15}" class="value">'
                     f'{html.escape(fmt(value) if value is not None else "not measured")}</text>')
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.chart{display:block;margin:1rem 0}.chart .title{font-weight:600;font-size:14px}
.chart .label{font-size:12px}.chart .value{font-size:12px;fill:#444}
.bar{fill:#7a8ca8}.bar.best{fill:#2e9d5b}.bar.fail{fill:#c95b5b}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #d8dce4;padding:4px 8px;text-align:center}
td.name{text-align:left;font-weight:600}.pass{color:#2e9d5b}.fail{color:#c95b5b}.na{color:#999}
.verdict{background:#eef8f1;border:1px solid #bfe3cb;padding:1rem;border-radius:6px}
code{background:#f3f4f7;padding:1px 4px;border-radius:3px}.note{color:#555}
"""


def html_report(doc: dict[str, Any]) -> str:
    e = html.escape
    checks = ["<table class=\"checks\"><tr><th>variant</th>" + "".join(f"<th>{c}</th>" for c in CHECK_NAMES) + "</tr>"]
    for v in doc["variants"]:
        if v["skipped"]:
            checks.append(f'<tr><td class="name">{e(v["name"])}</td><td colspan="{len(CHECK_NAMES)}">skipped: '
                          f'{e(v["reason"] or "")}</td></tr>')
            continue
        cells = []
        for c in CHECK_NAMES:
            val = v["checks"].get(c)
            cls = {True: "pass", False: "fail", None: "na"}[val]
            why = e(v["check_reasons"].get(c, ""))
            cells.append(f'<td class="{cls}" title="{why}">{_mark(v, c)}</td>')
        checks.append(f'<tr data-variant="{e(v["name"])}"><td class="name">{e(v["name"])}</td>{"".join(cells)}</tr>')
    checks.append("</table>")
    verdict = doc["verdict"]
    if verdict.get("best"):
        vtext = (f"<p><b>{e(verdict['best'])}</b> is the smallest variant that passes every applicable check: pull "
                 f"{e(human_bytes(verdict['pull_bytes']))}, image {e(human_bytes(verdict['image_bytes']))}.</p>"
                 f"<p><code>{e(verdict['command'])}</code></p><p>Dockerfile: <code>RUN {e(verdict['dockerfile'])}</code></p>"
                 + "".join(f'<p class="note">{e(n)}</p>' for n in verdict["compatibility"])
                 + (f"<p>Best that every engine can pull: <b>{e(verdict['best_every_engine'])}</b></p>"
                    if verdict.get("best_every_engine") else ""))
    else:
        vtext = f"<p>No variant passed: {e(verdict.get('reason', ''))}</p>"
    charts = "".join(_chart(doc, key, title, fmt) for key, title, fmt in METRICS)
    notes = "".join(f'<p class="note">{e(n)}</p>' for n in doc.get("notes", []))
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>slimgo compare: {e(doc['target'])}"
            f"</title><style>{CSS}</style></head><body><h1>slimgo compare: {e(doc['target'])}</h1>"
            f"<div class=\"verdict\">{vtext}</div><h2>Sizes, start-up and memory</h2>{charts}"
            f"<h2>Checks</h2>{''.join(checks)}<p class=\"note\">✓ pass · ✗ fail · – not applicable or not run · "
            f"* carried over from a variant with identical files (not run on this one). "
            f"Every number on this page was measured on the machine that ran slimgo ({e(doc['engine'])} engine)."
            f"</p>{notes}</body></html>\n")


def _prefer_lines(verdict: dict[str, Any]) -> list[str]:
    """How the verdict weighed pull size against start-up and memory (compare --prefer)."""
    prefer = verdict.get("prefer")
    if not prefer:
        return []
    lines = [f"chosen by --prefer {prefer}" + (f": the smallest pull with {verdict['bound']}" if verdict.get("bound")
                                                 else "")]
    lines += [f"outside the bound: {name}: {why}" for name, why in (verdict.get("excluded_by_bound") or {}).items()]
    return lines
