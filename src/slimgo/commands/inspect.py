"""The `slimgo inspect` verb: flags → library → rendering. Heavy modules load only when it runs."""

from __future__ import annotations

from pathlib import Path

import click

from ..oci.transports import image_ref
from .edge import Ui, emit_json, json_options


@click.command("inspect")
@click.argument("ref")
@json_options
@click.option("--html", type=click.Path(path_type=Path), help="Also write a self-contained HTML report.")
@click.option("--layer", type=int, help="Show the file tree of layer N (0 is the base).")
@click.option("--tree", is_flag=True, help="Show the file tree of the final filesystem, with sizes.")
@click.option("--ci", is_flag=True, help="Check thresholds and rules; exit 1 naming each failed rule.")
@click.option("--diff", "other", metavar="OTHER", help="Compare with another image: what changed from REF to OTHER.")
@click.option("--platform", help="For an index: which image (default linux/amd64).")
@click.option("--lowest-efficiency", help="CI: lowest allowed efficiency, 0-1 (dive's lowestEfficiency).")
@click.option("--highest-wasted-bytes",
              help="CI: most wasted bytes allowed, e.g. 20MiB (IEC) or 20M (SI, as dive), or 'disabled'.")
@click.option("--highest-user-wasted-percent", help="CI: highest wasted/user-bytes ratio, 0-1.")
@click.option("--ci-config", type=click.Path(path_type=Path), help="A dive .dive-ci file (default ./.dive-ci).")
def inspect_cmd(ref: str, json_out: bool, html: Path | None, layer: int | None, tree: bool, ci: bool,
                other: str | None, platform: str | None, lowest_efficiency: str | None,
                highest_wasted_bytes: str | None, highest_user_wasted_percent: str | None,
                ci_config: Path | None) -> int:
    """What an image ships, wastes and exposes, and whether it will start (oci:DIR[:tag], docker-archive:FILE,
    docker-daemon:NAME or a registry REF)."""
    from ..fsutil import check_writable, write_bytes
    from ..inspect import ci as ci_mod
    from ..inspect.core import inspect
    from ..platform import Platform

    plat = Platform.parse(platform) if platform else None
    thresholds = None
    if ci:  # every input is checked before the image is read
        thresholds = ci_mod.load(Path.cwd(), {"lowestEfficiency": lowest_efficiency,
                                              "highestWastedBytes": highest_wasted_bytes,
                                              "highestUserWastedPercent": highest_user_wasted_percent}, ci_config)
    elif lowest_efficiency or highest_wasted_bytes or highest_user_wasted_percent or ci_config:
        raise click.UsageError("threshold options need --ci")
    if html is not None:
        check_writable(html)
    ui = Ui(json_out)
    ref, other = image_ref(ref), image_ref(other) if other else other
    with ui.progress(f"inspecting {ref}") as progress:  # under --json, a failure's document comes from the edge
        result = inspect(ref, plat, tree=tree, layer=layer, progress=progress)
        other_result = inspect(other, plat, progress=progress) if other else None
    doc = result.doc
    code = 0
    if thresholds is not None:
        rules = ci_mod.evaluate(thresholds, doc)
        passed = all(r.passed is not False for r in rules)
        doc["ci"] = {"passed": passed, "rules": [r.to_json() for r in rules],
                     "thresholds": {k: {"value": v, "from": thresholds.source[k]} for k, v in thresholds.raw.items()}}
        code = 0 if passed else 1
    if other_result is not None:
        from ..inspect.diff import diff

        doc["diff"] = diff(result, other_result)
    if html is not None:
        from ..report.inspect_view import html_report

        write_bytes(html, html_report(doc).encode())
    if json_out:
        emit_json(doc)
    else:
        from ..report.inspect_view import render, render_diff

        if "diff" in doc:
            render_diff(doc["diff"], ui.out)
            from ..report.inspect_view import render_ci

            render_ci(doc, ui.out)
        else:
            render(doc, ui.out)
    if code:
        failed = [r["rule"] for r in doc["ci"]["rules"] if r["status"] == "fail"]
        ui.err.print(f"[bold red]inspect --ci failed:[/] {', '.join(failed)}")
    return code
