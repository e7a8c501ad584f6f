"""`slimgo lint`: Dockerfiles → findings (text, JSON, SARIF, GitHub annotations) and an exit code.

A file that cannot be read or parsed is an SG000 finding in every format, the other files are still
linted, and the exit code is 2; `-` reads a Dockerfile from standard input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import BadInput
from .edge import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, Ui

if TYPE_CHECKING:
    from ..dockerfile.rules.model import Finding


def explain(rule_id: str) -> None:
    from ..dockerfile.lint import ALL_RULES

    rule = ALL_RULES.get(rule_id.upper())
    if rule is None:
        raise click.UsageError(f"unknown rule {rule_id} (rules: {', '.join(sorted(ALL_RULES))})")
    sys.stdout.write(f"{rule.id} ({rule.severity}): {rule.title}\n\n{rule.explain}\n"
                     f"{'Fixable with --fix.' if rule.fixable else ''}\n"
                     f"Ignore it for one instruction with `# slimgo:ignore={rule.id} -- reason` on the line "
                     f"above, or in the whole file with `# slimgo:ignore-file={rule.id}`. hadolint's "
                     f"`# hadolint ignore=DL…` for the matching rule is honoured too.\n")


def lint_files(files: tuple[Path, ...], fmt: str, threshold: str | None, fix: bool,
               context: Path | None = None) -> int:
    from ..dockerfile.lint import PARSE_ERROR, fails, lint_file, lint_text, render_json, settings_for, to_github

    if fix and any(str(f) == "-" for f in files):
        raise click.UsageError("--fix rewrites files in place; it cannot rewrite standard input")
    if context is not None and not context.is_dir():
        raise BadInput(f"--context {context}: not a directory")
    findings: list[Finding] = []
    failed = False
    fixed: list[dict[str, Any]] = []
    for path in files:
        stdin = str(path) == "-"
        settings = settings_for(Path.cwd() / "Dockerfile" if stdin else path)
        if threshold is not None:
            settings.threshold = threshold
        settings.context = context
        if stdin:
            found = lint_text(_read_stdin(), "-", None, settings)
        elif fix:
            from ..dockerfile.fix import fix_file

            done, found = fix_file(path, settings)
            fixed += [{"file": str(path), **d.to_json()} for d in done]
        else:
            found = lint_file(path, settings)
        findings += found
        failed = failed or fails(found, settings.threshold)
    if fmt in ("json", "sarif"):
        sys.stdout.write(render_json(findings, fmt, fixed if fix else None) + "\n")
    elif fmt == "github":
        if findings:
            sys.stdout.write(to_github(findings) + "\n")
    else:
        render_findings(findings, fixed)
    broken = [f for f in findings if f.rule == PARSE_ERROR]
    if broken:
        from rich.markup import escape

        err = Ui().err
        for f in broken:
            err.print(escape(f"slimgo: error: {f.file}{f':{f.line}' if f.line else ''}: {f.message}"))
        return EXIT_BAD_INPUT
    return EXIT_FAILED if failed else EXIT_OK


def _read_stdin() -> str:
    raw = getattr(sys.stdin, "buffer", None)  # bytes when there is a real stdin: keep non-UTF-8 as is
    return raw.read().decode("utf-8", "surrogateescape") if raw is not None else sys.stdin.read()


def render_findings(findings: list[Finding], fixed: list[dict[str, Any]]) -> None:
    from rich.markup import escape

    ui = Ui()
    colors = {"error": "red", "warning": "yellow", "info": "cyan", "style": "dim"}
    for d in fixed:
        ui.out.print(f"[green]fixed[/] {escape(d['file'])}:{d['line']} {d['rule']} {escape(str(d['description']))}")
    for f in findings:
        ui.out.print(f"{escape(f.file)}:{f.line} [{colors[f.severity]}]{f.severity}[/] [bold]{f.rule}[/] "
                     f"{escape(f.message)}")
        ui.out.print(f"    [dim]fix: {escape(f.hint)}[/]")
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
@click.option("--fix", is_flag=True, help="Rewrite what is provably safe to rewrite; the rest stays as findings.")
@click.option("--context", "context", type=click.Path(path_type=Path),
              help="The build context (for .dockerignore checks) when it is not the Dockerfile's directory.")
@click.option("--explain", "explain_rule", metavar="RULE", help="Print a rule's documentation.")
def lint(files: tuple[Path, ...], fmt: str, json_out: bool, threshold: str | None, fix: bool,
         context: Path | None, explain_rule: str | None) -> int:
    """Lint Dockerfiles for size (SG1xx), cache (SG2xx), security (SG3xx) and Go build (SG4xx) mistakes.

    `-` reads a Dockerfile from standard input. A file that cannot be read or parsed is reported as an
    SG000 finding, the other files are still linted, and the exit code is 2.
    """
    if explain_rule:
        explain(explain_rule)
        return EXIT_OK
    if not files:
        raise click.UsageError("give one or more Dockerfiles, - for standard input (or --explain RULE)")
    return lint_files(files, "json" if json_out else fmt, threshold, fix, context)
