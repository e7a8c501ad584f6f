"""`slimgo compare`: flags → CompareRequest → the comparison → table, JSON and report files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..compare.prefer import PREFERENCES
from .edge import Ui, emit_json, json_options, split_list

if TYPE_CHECKING:
    from ..compare.core import CompareRequest


def run_compare(req: CompareRequest, ui: Ui, json_out: bool) -> int:
    from ..compare.core import compare as compare_all
    from ..fsutil import write_bytes
    from ..report.compare_view import html_report, render
    from ..report.compare_view import markdown as to_markdown

    with ui.progress(f"comparing strategies for {req.target}") as progress:
        result = compare_all(req, progress)
    doc = result.to_json()
    if req.markdown:
        write_bytes(req.markdown, to_markdown(doc).encode())
    if req.html:
        write_bytes(req.html, html_report(doc).encode())
    for note in doc["notes"]:
        ui.note(note)
    if json_out:
        emit_json(doc)
    else:
        render(doc, ui.out)
    return result.exit_code


@click.command()
@click.argument("target", default=".", required=False)
@click.option("--strategies", help="Comma-separated subset of the ladder (and .slimgo.yaml strategies).")
@click.option("--port", type=int, help="The program serves TCP on this port: started = accepts a connection.")
@click.option("--ready", metavar="REGEX", help="Started = prints a line matching REGEX.")
@click.option("--run-args", default="", help="Arguments for the program (shell-quoted string).")
@click.option("--grace", default=2.0, show_default=True, help="Seconds a program without --port/--ready must survive.")
@click.option("--runs", default=5, show_default=True, type=click.IntRange(min=1),
              help="Starts per variant (median and spread); fewer than 5 is a quick, noisy look.")
@click.option("--platform", "platforms", metavar="LIST",
              help="Comma-separated platforms (default: the host's). The first gets the verdict; the others "
                   "(e.g. linux/arm64) are built, measured and checked under qemu-user.")
@click.option("--prefer", type=click.Choice(PREFERENCES), default="balanced", show_default=True,
              help="What the verdict optimises: balanced = the smallest pull whose start-up and RSS stay within "
                   "10% + 5 ms / 10% + 2 MiB of the unpacked ldflags-sw binary; or pull, startup, memory.")
@click.option("--baseline-base", metavar="REF", help="Put the baseline on a real image (e.g. a golang image).")
@click.option("--no-engine", is_flag=True, help="Do not use a Docker engine for the checks.")
@json_options
@click.option("--markdown", type=click.Path(path_type=Path), help="Also write a Markdown report.")
@click.option("--html", type=click.Path(path_type=Path), help="Also write a self-contained HTML report.")
def compare(target: str, strategies: str | None, port: int | None, ready: str | None, run_args: str, grace: float,
            runs: int, platforms: str | None, prefer: str,
            baseline_base: str | None, no_engine: bool, json_out: bool, markdown: Path | None,
            html: Path | None) -> int:
    """Build the ladder of strategies, run and check each variant, and pick the smallest that works."""
    import shlex

    from ..compare.core import CompareRequest

    req = CompareRequest(target=target, strategies=strategies, port=port, ready=ready,
                         run_args=shlex.split(run_args), grace=grace, baseline_base=baseline_base, runs=runs,
                         html=html, markdown=markdown, use_engine=not no_engine, prefer=prefer,
                         platforms=split_list(platforms) or [])
    return run_compare(req, Ui(json_out), json_out)
