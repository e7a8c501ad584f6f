"""`slimgo lint`: Dockerfiles → findings (text, JSON, SARIF, GitHub annotations) and an exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .edge import EXIT_FAILED, EXIT_OK, Ui


def explain(rule_id: str) -> None:
    from ..dockerfile.lint import ALL_RULES

    rule = ALL_RULES.get(rule_id.upper())
    if rule is None:
        raise click.UsageError(f"unknown rule {rule_id} (rules: {', '.join(sorted(ALL_RULES))})")
    sys.stdout.write(f"{rule.id} ({rule.severity}): {rule.title}\n\n{rule.explain}\n"
                     f"{'Fixable with --fix.' if rule.fixable else ''}\n"
                     f"Ignore it for one instruction with `# slimgo:ignore={rule.id}` on the line above, or in "
                     f"the whole file with `# slimgo:ignore-file={rule.id}`.\n")


def lint_files(files: tuple[Path, ...], fmt: str, threshold: str | None, fix: bool) -> int:
    from ..dockerfile.lint import check_threshold, fails, lint_file, render_json, settings_for, to_github

    findings: list[Any] = []  # dockerfile's Finding (its module is being renamed)
    failed = False
    applied: list[str] = []
    for path in files:
        settings = settings_for(path)
        if threshold is not None:
            settings.threshold = check_threshold(threshold)
        if fix:
            from ..dockerfile.fix import fix_file

            done, found = fix_file(path)
            applied += [f"{path}: {d}" for d in done]
        else:
            found = lint_file(path, settings)
        findings += found
        failed = failed or fails(found, settings.threshold)
    if fmt in ("json", "sarif"):
        sys.stdout.write(render_json(findings, fmt) + "\n")
    elif fmt == "github":
        if findings:
            sys.stdout.write(to_github(findings) + "\n")
    else:
        render_findings(findings, applied)
    return EXIT_FAILED if failed else EXIT_OK


def render_findings(findings: list[Any], applied: list[str]) -> None:
    ui = Ui()
    colors = {"error": "red", "warning": "yellow", "info": "cyan", "style": "dim"}
    for line in applied:
        ui.out.print(f"[green]fixed[/] {line}")
    for f in findings:
        ui.out.print(f"{f.file}:{f.line} [{colors[f.severity]}]{f.severity}[/] [bold]{f.rule}[/] {f.message}")
        ui.out.print(f"    [dim]fix: {f.hint}[/]")
    counts = {s: sum(1 for f in findings if f.severity == s) for s in colors}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
    ui.err.print(f"[dim]{summary}[/]")


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="Output format (github: workflow annotations).")
@click.option("--json", "json_out", is_flag=True, help="Same as --format json.")
@click.option("--threshold", type=click.Choice(["error", "warning", "info", "style", "none"]),
              help="Lowest severity that fails. [default: warning, or lint.threshold in .slimgo.yaml]")
@click.option("--fix", is_flag=True, help="Rewrite what is safe to rewrite; the rest stays as findings.")
@click.option("--explain", "explain_rule", metavar="RULE", help="Print a rule's documentation.")
def lint(files: tuple[Path, ...], fmt: str, json_out: bool, threshold: str | None, fix: bool,
         explain_rule: str | None) -> int:
    """Lint Dockerfiles for size (SG1xx), cache (SG2xx), security (SG3xx) and Go build (SG4xx) mistakes."""
    if explain_rule:
        explain(explain_rule)
        return EXIT_OK
    if not files:
        raise click.UsageError("give one or more Dockerfiles (or --explain RULE)")
    return lint_files(files, "json" if json_out else fmt, threshold, fix)
