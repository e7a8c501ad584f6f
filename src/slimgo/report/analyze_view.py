"""Terminal rendering of `slimgo analyze`."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..binary.analysis import Analysis
from ..binary.diff import Diff
from .units import human_bytes, pct


def render(a: Analysis, console: Console, top: int = 15, by: str = "package", title: str = "") -> None:
    info = a.info
    head = escape(title or a.path)
    console.print(f"[bold]{head}[/]  {human_bytes(a.file_bytes)} · {a.machine} · {a.link}"
                  + (f" · interpreter {escape(a.interpreter)}" if a.interpreter else "") + (" · PIE" if a.pie else "")
                  + (" · [red]UPX-packed[/]" if a.upx else ""))
    if not a.is_go:
        console.print("[yellow]not a Go binary[/] (no Go build info or function table)")
    if info:
        main = info.main
        console.print(escape(f"{info.go_version} · {info.path}" + (f" · module {main.path} {main.version}" if main else "")))
        keys = ("CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOARM", "-trimpath", "-ldflags", "-tags")
        settings = " ".join(f"{k}={info.settings[k]}" for k in keys if k in info.settings)
        if settings:
            console.print(f"[dim]{escape(settings)}[/]")
    if a.needed:
        console.print(f"needs libraries (DT_NEEDED): {escape(', '.join(a.needed))}")
    console.print(f"symbols: {'stripped' if a.stripped_symbols else 'kept'} · "
                  f"DWARF: {'stripped' if a.stripped_dwarf else 'kept'}")
    if a.debug_build:
        console.print("[yellow]debug build[/]: compiled with -N -l (no optimisation, no inlining), for a debugger")
    t = Table(title="sections", title_justify="left")
    t.add_column("group")
    t.add_column("bytes", justify="right")
    t.add_column("share", justify="right")
    for name, size in sorted(a.groups.items(), key=lambda kv: -kv[1]):
        t.add_row(escape(name), human_bytes(size), pct(size, a.file_bytes))
    t.add_row("[bold]file[/]", f"[bold]{human_bytes(a.file_bytes)}[/]", "100%")
    console.print(t)
    entries = a.modules if by == "module" else a.packages
    if entries:
        total = sum(e.bytes for e in entries)
        p = Table(title=f"size by {by}, top {top}; from {a.size_source}", title_justify="left")
        p.add_column(by)
        p.add_column("bytes", justify="right")
        p.add_column("share", justify="right")
        for e in entries[:top]:
            p.add_row(escape(e.name), human_bytes(e.bytes), pct(e.bytes, total))
        console.print(p)
        console.print("groups: " + " · ".join(f"{k} {human_bytes(v)}" for k, v in a.package_groups.items() if v))
        if a.bss_bytes:
            console.print(f"[dim]zero-filled data (.bss/.noptrbss, no file bytes) not counted above: "
                          f"{human_bytes(a.bss_bytes)}[/]")
    if a.needs:
        n = a.needs
        yes = [k for k, v in n.to_json().items() if v]
        console.print(f"needs at run time: {', '.join(yes) if yes else 'nothing from the image'}")
        console.print(f"suitable bases: {', '.join(n.suitable_bases())}")
    for r in a.recommendations:
        saves = "" if r.saves_bytes is None else f" [green](saves {human_bytes(r.saves_bytes)}"\
            f"{', estimated' if r.estimated else ''})[/]"
        console.print(f"• {escape(r.title)}{saves}")
    for p_ in a.partial:
        console.print(f"[yellow]partial:[/] {escape(p_)}")


def render_diff(d: Diff, console: Console, top: int = 15) -> None:
    delta = d.new.file_bytes - d.old.file_bytes
    console.print(f"[bold]{escape(d.old.path)} → {escape(d.new.path)}[/]: {human_bytes(d.old.file_bytes)} → "
                  f"{human_bytes(d.new.file_bytes)} ({'+' if delta >= 0 else '−'}{human_bytes(abs(delta))})")
    if d.size_note:
        console.print(f"[yellow]note:[/] {d.size_note}")
    source = f"; from {d.size_source}"
    for title, rows in (("sections", d.sections), ("packages" + source, d.packages), ("modules" + source, d.modules)):
        if not rows:
            console.print(f"{title}: no change")
            continue
        t = Table(title=title, title_justify="left")
        for col in ("name", "old", "new", "delta"):
            t.add_column(col, justify="left" if col == "name" else "right")
        for r in rows[:top]:
            sign = "+" if r.delta > 0 else "−"
            color = "red" if r.delta > 0 else "green"
            t.add_row(escape(r.name), human_bytes(r.old), human_bytes(r.new), f"[{color}]{sign}{human_bytes(abs(r.delta))}[/]")
        console.print(t)
