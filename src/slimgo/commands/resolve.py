"""`slimgo resolve`: Kubernetes manifests with slimgo:// and ko:// references built, pushed and pinned."""

from __future__ import annotations

from pathlib import Path

import click

from .build import naming_of, naming_options
from .edge import EXIT_FAILED, EXIT_OK, Ui, credentials, escape, json_options


@click.command()
@click.option("--filename", "-f", "filenames", multiple=True, required=True, metavar="FILE|DIR|-",
              help="Manifest file, folder of *.yaml/*.yml/*.json, or - for stdin; repeatable.")
@click.option("--recursive", "-R", is_flag=True, help="Also read the subfolders of a folder.")
@click.option("--push", "push", is_flag=False, flag_value="", default=None, metavar="[PREFIX]",
              help="Push under PREFIX. [default: $SLIMGO_REPO]")
@click.option("--base", help="Base image for every program. [default: static]")
@click.option("--platform", "platforms", help="Comma-separated platforms. [default: the Go toolchain's GOARCH]")
@click.option("--image-refs", type=click.Path(dir_okay=False), help="Write NAME@DIGEST lines.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the resolved manifests to FILE (atomically; not at all when a program failed) "
                   "instead of stdout.")
@click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST",
              help="Allow plain HTTP to HOST (loopback registries always may).")
@click.option("--username", help="Registry user (password from --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin.")
@naming_options
@json_options
def resolve(filenames: tuple[str, ...], recursive: bool, push: str | None, base: str | None,
            platforms: str | None, image_refs: str | None, output: Path | None, insecure: tuple[str, ...],
            username: str | None, password_stdin: bool, naming: str | None, jobs: int | None, json_out: bool) -> int:
    """Print manifests with each slimgo://IMPORT/PATH or ko://IMPORT/PATH replaced by REPO@sha256:….

    Every referenced program is built and pushed first (under --push PREFIX or $SLIMGO_REPO). The output is
    the input, byte for byte, except for the replaced references; files are separated by `---`. Exit 1 when
    a program failed to build (nothing is printed then). With --json, stdout carries one JSON document, which
    holds the resolved manifests (`manifests`) unless --output names a file for them.
    """
    from ..config import BuildConfig
    from ..fsutil import check_writable, write_bytes
    from ..many.build import DEFAULT_JOBS, ManyRequest
    from ..many.resolve import read_inputs
    from ..many.resolve import resolve as resolve_manifests
    from ..pipeline import BuildRequest
    from .edge import split_list

    if password_stdin and "-" in filenames:
        raise click.UsageError("-f - and --password-stdin both read stdin")
    if output is not None:
        check_writable(output)
    manifests = read_inputs(filenames, recursive)
    settings = BuildConfig(base=base, platforms=split_list(platforms) or None)
    template = BuildRequest(settings=settings, push="" if push is None else push,
                            image_refs=Path(image_refs) if image_refs else None, insecure_registries=list(insecure),
                            credentials=credentials(username, password_stdin))
    ui = Ui(json_out)
    req = ManyRequest((), template, naming_of(naming), DEFAULT_JOBS if jobs is None else jobs)
    with ui.progress("resolving manifests") as progress:
        out = resolve_manifests(manifests, req, progress)
    if out.build is not None:
        for p in out.build.failed:
            ui.err.print(f"[bold red]failed:[/] {escape(f'{p.package}: {p.error}')}")
        ui.err.print(out.build.summary)  # the line `build ./...` ends with
    if out.text is not None and output is not None:
        write_bytes(output, out.text.encode())
    if json_out:
        ui.emit_json(out.to_json(output))
    elif out.text is not None and output is None:
        click.echo(out.text, nl=False)
    if out.text is None:
        return out.build.exit_code if out.build is not None else EXIT_FAILED
    return EXIT_OK
