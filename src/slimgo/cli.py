"""The edge: arguments → library calls → rendering; typed errors → exit codes.

Nothing below this module prints or exits. stdout carries results (one JSON document with --json);
progress, warnings and notes go to stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from . import __version__
from .config import parse_env
from .errors import SlimgoError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 70


class Ui:
    """Per-invocation terminal state (no globals): a stdout console for results, a stderr one for the rest."""

    def __init__(self, json_mode: bool = False) -> None:
        from rich.console import Console  # ~15 ms: only paid by commands that print for people

        self.json_mode = json_mode
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    @contextlib.contextmanager
    def progress(self, first: str) -> Iterator[Callable[[str], None]]:
        """A spinner on a terminal; plain lines on stderr otherwise (CI logs keep the steps)."""
        if self.err.is_terminal:
            with self.err.status(first) as status:
                yield lambda msg: status.update(msg)
        else:
            self.err.print(f"[dim]{first}[/]")
            yield lambda msg: self.err.print(f"[dim]{msg}[/]")

    def note(self, msg: str) -> None:
        self.err.print(f"[yellow]note:[/] {msg}")

    def emit_json(self, doc: dict[str, Any]) -> None:
        emit_json(doc)


def emit_json(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def _env_option(values: tuple[str, ...]) -> dict[str, str]:
    return parse_env(list(values), "--env")


def _credentials(username: str | None, password_stdin: bool):  # type: ignore[no-untyped-def]
    from .registry.auth import CredentialSource, Credentials

    if password_stdin and not username:
        raise click.UsageError("--password-stdin needs --username")
    if username and not password_stdin:
        raise click.UsageError("--username needs --password-stdin (passwords are never taken as arguments)")
    if username:
        return CredentialSource(explicit=Credentials(username, sys.stdin.readline().rstrip("\n")))
    return CredentialSource()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="slimgo")
def cli() -> None:
    """slimgo: the smallest Go container images that still work, with measurements to prove it."""


@cli.command()
@click.argument("target", default=".", required=False)
@click.option("--ldflags", help="Extra linker flags, appended after slimgo's '-s -w -buildid=' (later wins).")
@click.option("--gcflags", help="Compiler flags (go build -gcflags).")
@click.option("--tags", "build_tags", help="Comma-separated Go build tags.")
@click.option("--env", "env", multiple=True, metavar="KEY=VAL", help="Build environment (e.g. CGO_ENABLED=1).")
@click.option("--base", help="Base: static (default), static-full, scratch, a registry REF, oci:DIR[:tag], "
                              "docker-archive:FILE, docker-daemon:NAME.")
@click.option("--user", help="Image user, UID[:GID] (default 65532:65532 on the static base).")
@click.option("--platform", "platforms", help="Comma-separated platforms, e.g. linux/amd64,linux/arm64.")
@click.option("--compression", type=click.Choice(["gzip", "zstd", "none"]), help="Layer compression (gzip).")
@click.option("--compression-level", type=int, help="gzip 0-9 (default 6), zstd 1-22 (default 19).")
@click.option("--data", type=click.Path(path_type=Path), help="Directory copied to /app/data ($SLIMGO_DATA_PATH).")
@click.option("--tag", "-t", "image_tags", multiple=True, help="Image name[:tag]; repeatable.")
@click.option("--oci-layout", type=click.Path(path_type=Path), help="Write an OCI image layout directory.")
@click.option("--tarball", type=click.Path(path_type=Path), help="Write a docker-archive (also an OCI layout).")
@click.option("--image-refs", type=click.Path(path_type=Path), help="Write NAME@DIGEST lines for CI/signing.")
@click.option("--push", "push", is_flag=False, flag_value="", default=None, metavar="[REF]",
              help="Push to a registry (REF, or $SLIMGO_REPO/NAME when REF is omitted).")
@click.option("--load", is_flag=True, help="Load the image into the Docker engine ($DOCKER_HOST).")
@click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST",
              help="Allow plain HTTP to HOST (loopback registries always may).")
@click.option("--username", help="Registry user (password from --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin.")
@click.option("--no-reference", is_flag=True, help="Skip the plain `go build` measured for the reduction line.")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached base layers.")
@click.option("--json", "json_out", is_flag=True, help="Print one JSON document on stdout.")
def build(target: str, ldflags: str | None, gcflags: str | None, build_tags: str | None, env: tuple[str, ...],
          base: str | None, user: str | None, platforms: str | None, compression: str | None,
          compression_level: int | None, data: Path | None, image_tags: tuple[str, ...], oci_layout: Path | None,
          tarball: Path | None, image_refs: Path | None, push: str | None, load: bool, insecure: tuple[str, ...],
          username: str | None, password_stdin: bool, no_reference: bool, no_cache: bool, json_out: bool) -> None:
    """Compile a Go main package (DIR or module/path@version) into a minimal OCI image, daemonlessly."""
    from .config import BuildConfig
    from .pipeline import BuildRequest, build as run_build
    from .report.build_summary import render

    ui = Ui(json_out)
    settings = BuildConfig(
        ldflags=ldflags, gcflags=gcflags,
        tags=[t for t in build_tags.split(",") if t] if build_tags is not None else None,
        env=_env_option(env), base=base, user=user,
        platforms=[p for p in platforms.split(",") if p] if platforms else None,
        compression=compression, compression_level=compression_level, data=str(data) if data else None)
    req = BuildRequest(
        target=target, settings=settings,
        image_tags=list(image_tags), oci_layout=oci_layout, tarball=tarball, image_refs=image_refs,
        reference_build=not no_reference, cache=not no_cache, push=push, load=load,
        insecure_registries=list(insecure), credentials=_credentials(username, password_stdin),
    )
    with ui.progress(f"building {target}") as progress:
        result = run_build(req, progress)
    for note in result.notes:
        ui.note(note)
    if json_out:
        ui.emit_json(result.to_json())
    else:
        render(result, ui.out)


@cli.command()
@click.argument("target", default=".", required=False)
@click.option("--strategies", help="Comma-separated subset of the ladder (and .slimgo.yaml strategies).")
@click.option("--port", type=int, help="The program serves TCP on this port: started = accepts a connection.")
@click.option("--ready", metavar="REGEX", help="Started = prints a line matching REGEX.")
@click.option("--run-args", default="", help="Arguments for the program (shell-quoted string).")
@click.option("--grace", default=2.0, show_default=True, help="Seconds a program without --port/--ready must survive.")
@click.option("--runs", default=5, show_default=True, help="Starts per variant for the start-up median (>= 5).")
@click.option("--baseline-base", metavar="REF", help="Put the baseline on a real image (e.g. a golang image).")
@click.option("--no-engine", is_flag=True, help="Do not use a Docker engine for the checks.")
@click.option("--json", "json_out", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--markdown", type=click.Path(path_type=Path), help="Also write a Markdown report.")
@click.option("--html", type=click.Path(path_type=Path), help="Also write a self-contained HTML report.")
def compare(target: str, strategies: str | None, port: int | None, ready: str | None, run_args: str, grace: float,
            runs: int, baseline_base: str | None, no_engine: bool, json_out: bool, markdown: Path | None,
            html: Path | None) -> int:
    """Build the ladder of strategies, run and check each variant, and pick the smallest that works."""
    import shlex

    from .compare.core import CompareRequest, compare as run_compare
    from .fsutil import write_bytes
    from .report.compare_view import html_report, markdown as to_markdown, render

    if runs < 5:
        raise click.UsageError("--runs must be at least 5 (the start-up time is a median)")
    req = CompareRequest(target=target, strategies=strategies, port=port, ready=ready,
                         run_args=shlex.split(run_args), grace=grace, baseline_base=baseline_base, runs=runs,
                         html=html, markdown=markdown, use_engine=not no_engine)
    ui = Ui(json_out)
    with ui.progress(f"comparing strategies for {target}") as progress:
        result = run_compare(req, progress)
    doc = result.to_json()
    if markdown:
        write_bytes(markdown, to_markdown(doc).encode())
    if html:
        write_bytes(html, html_report(doc).encode())
    for note in doc["notes"]:
        ui.note(note)
    if json_out:
        emit_json(doc)
    else:
        render(doc, ui.out)
    return result.exit_code


@cli.group()
def base() -> None:
    """slimgo's embedded base image, for other tools (ko, Dockerfiles) to build on."""


@base.command("push")
@click.argument("ref", required=False)
@click.option("--variant", type=click.Choice(["full", "ca", "tz", "minimal"]), default="full", show_default=True,
              help="Which optional parts to include (CA bundle, zoneinfo).")
@click.option("--platform", "platforms", default="linux/amd64,linux/arm64", show_default=True)
@click.option("--oci-layout", type=click.Path(path_type=Path), help="Write an OCI layout instead of (or too).")
@click.option("--tarball", type=click.Path(path_type=Path), help="Write a docker-archive too.")
@click.option("--tag", "local_tag", help="Name for --oci-layout/--tarball (default: REF, else slimgo/static).")
@click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST")
@click.option("--username")
@click.option("--password-stdin", is_flag=True)
@click.option("--json", "json_out", is_flag=True)
def base_push(ref: str | None, variant: str, platforms: str, oci_layout: Path | None, tarball: Path | None,
              local_tag: str | None, insecure: tuple[str, ...], username: str | None, password_stdin: bool,
              json_out: bool) -> None:
    """Publish the static base (REF in a registry, and/or --oci-layout / --tarball)."""
    from .base_image import publish_base

    if ref is None and oci_layout is None and tarball is None:
        raise click.UsageError("give a REF to push to, --oci-layout DIR or --tarball FILE")
    doc = publish_base(ref, variant, [p for p in platforms.split(",") if p], oci_layout, tarball,
                       list(insecure), _credentials(username, password_stdin), local_tag)
    if json_out:
        emit_json(doc)
    else:
        ui = Ui()
        for line in doc["refs"] or [doc["digest"]]:
            ui.out.print(line)


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--diff", "diff_mode", is_flag=True, help="Compare two binaries: OLD NEW.")
@click.option("--top", default=15, show_default=True, help="Rows in the package/module table.")
@click.option("--by", type=click.Choice(["package", "module"]), default="package", show_default=True)
@click.option("--json", "json_out", is_flag=True, help="Print one JSON document on stdout.")
def analyze(targets: tuple[str, ...], diff_mode: bool, top: int, by: str, json_out: bool) -> None:
    """What is inside a Go binary or image (oci:DIR[:tag], docker-archive:FILE), why it is big, what it needs."""
    from .analyze import ImageAnalysis, analyze_target, diff

    if not json_out:
        from .report.analyze_view import render, render_diff

    ui = None if json_out else Ui()
    if diff_mode:
        if len(targets) != 2:
            raise click.UsageError("--diff takes exactly two binaries: OLD NEW")
        d = diff(targets[0], targets[1])
        if ui is None:
            emit_json(d.to_json())
        else:
            render_diff(d, ui.out, top)
        return
    if len(targets) != 1:
        raise click.UsageError("analyze takes one binary or image (or --diff OLD NEW)")
    result = analyze_target(targets[0])
    if ui is None:
        emit_json(result.to_json())
    elif isinstance(result, ImageAnalysis):
        if not result.binaries:
            ui.note(f"no Go binaries found in {result.ref}")
        for platform, path, a in result.binaries:
            render(a, ui.out, top, by, title=f"{platform} {path}")
    else:
        render(result, ui.out, top, by)


@cli.command()
@click.argument("directory", default=".", required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Where to write (default DIR/Dockerfile; - for stdout).")
@click.option("--base", help="Runtime base image (default gcr.io/distroless/static-debian12:nonroot).")
@click.option("--upx", is_flag=True, help="Pack the binary with UPX in the builder, after stripping.")
@click.option("--debug", is_flag=True, help="A Delve variant: -gcflags all=-N -l, dlv exec --headless on :2345.")
@click.option("--syntax", is_flag=True, help="Add a `# syntax=docker/dockerfile:1` line (needs network at build).")
@click.option("--force", is_flag=True, help="Overwrite an existing Dockerfile.")
def dockerfile(directory: str, output: Path | None, base: str | None, upx: bool, debug: bool, syntax: bool,
               force: bool) -> None:
    """Write an optimized multi-stage Dockerfile (and a .dockerignore) for a Go main package."""
    from .dockerfile.generate import DOCKERIGNORE, build_command, module_facts, render
    from .fsutil import write_bytes
    from .gobuild.target import resolve
    from .gobuild.toolchain import find_toolchain

    target = resolve(directory, find_toolchain())
    assert target.module_root is not None and target.package_dir is not None
    facts = module_facts(target.package_dir, target.module_root, target.name)
    text = render(facts, runtime=base, upx=upx, debug=debug, syntax=syntax)
    if output is not None and str(output) == "-":
        sys.stdout.write(text)
        return
    dest = output or facts.root / "Dockerfile"
    if dest.exists() and not force:
        raise SlimgoError(f"{dest}: exists (use --force to overwrite, or -o FILE)")
    write_bytes(dest, text.encode())
    ui = Ui()
    ui.out.print(f"wrote {dest}")
    ignore = facts.root / ".dockerignore"
    if not ignore.exists():
        write_bytes(ignore, DOCKERIGNORE.encode())
        ui.out.print(f"wrote {ignore}")
    ui.out.print(f"build it: [bold]{build_command(facts)}[/]")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True)
@click.option("--json", "json_out", is_flag=True, help="Same as --format json.")
@click.option("--threshold", help="Lowest severity that fails (error|warning|info|style|none; default warning).")
@click.option("--fix", is_flag=True, help="Rewrite what is safe to rewrite; the rest stays as findings.")
@click.option("--explain", metavar="RULE", help="Print a rule's documentation.")
def lint(files: tuple[Path, ...], fmt: str, json_out: bool, threshold: str | None, fix: bool,
         explain: str | None) -> int:
    """Lint Dockerfiles for size (SG1xx), cache (SG2xx), security (SG3xx) and Go build (SG4xx) mistakes."""
    from .dockerfile.lint import ALL_RULES, check_threshold, fails, lint_file, render_json, settings_for, to_github

    if explain:
        rule = ALL_RULES.get(explain.upper())
        if rule is None:
            raise click.UsageError(f"unknown rule {explain} (rules: {', '.join(sorted(ALL_RULES))})")
        sys.stdout.write(f"{rule.id} ({rule.severity}): {rule.title}\n\n{rule.explain}\n"
                         f"{'Fixable with --fix.' if rule.fixable else ''}\n"
                         f"Ignore it for one instruction with `# slimgo:ignore={rule.id}` on the line above, or in "
                         f"the whole file with `# slimgo:ignore-file={rule.id}`.\n")
        return 0
    if not files:
        raise click.UsageError("give one or more Dockerfiles (or --explain RULE)")
    fmt = "json" if json_out else fmt
    findings = []
    worst = "none"
    applied: list[str] = []
    for path in files:
        settings = settings_for(path)
        if threshold is not None:
            settings.threshold = check_threshold(threshold)
        if fix:
            from .dockerfile.fix import fix_file

            done, found = fix_file(path)
            applied += [f"{path}: {d}" for d in done]
        else:
            found = lint_file(path, settings)
        findings += found
        if fails(found, settings.threshold):
            worst = "fail"
    if fmt in ("json", "sarif"):
        sys.stdout.write(render_json(findings, fmt) + "\n")
    elif fmt == "github":
        if findings:
            sys.stdout.write(to_github(findings) + "\n")
    else:
        _render_findings(findings, applied)
    return 1 if worst == "fail" else 0


def _render_findings(findings: list[Any], applied: list[str]) -> None:
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


def _report_error(exc: SlimgoError) -> int:
    from rich.console import Console

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"[bold red]slimgo: error:[/] {exc.message}", markup=True)
    if exc.detail:
        sys.stderr.write(exc.detail.rstrip() + "\n")
    return exc.exit_code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    # SIGTERM (CI cancellation, `kill`) unwinds like Ctrl-C, so temp outputs are removed on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        rv = cli.main(args=argv, prog_name="slimgo", standalone_mode=False)
        return rv if isinstance(rv, int) else EXIT_OK
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        sys.stderr.write(f"slimgo: error: {exc.format_message()}\n")
        return EXIT_BAD_INPUT
    except click.ClickException as exc:
        sys.stderr.write(f"slimgo: error: {exc.format_message()}\n")
        return EXIT_BAD_INPUT
    except click.Abort:
        sys.stderr.write("slimgo: interrupted\n")
        return 130
    except SlimgoError as exc:
        return _report_error(exc)
    except KeyboardInterrupt:
        sys.stderr.write("slimgo: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # disk full, permission denied on a path we did not pre-check
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"slimgo: error: {where}{exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: one line, the traceback on request
        if os.environ.get("SLIMGO_DEBUG"):
            raise
        sys.stderr.write(f"slimgo: internal error: {type(exc).__name__}: {exc} "
                         "(set SLIMGO_DEBUG=1 for the traceback)\n")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
