"""`slimgo dockerfile`: a Go main package → an optimized multi-stage Dockerfile and a .dockerignore."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import BadInput
from .edge import Ui, emit_json, json_options


def write_dockerfile(directory: str, output: Path | None, base: str | None, builder: str | None, cgo: bool,
                     upx: bool, debug: bool, debug_continue: bool, pin_digests: bool, syntax: bool,
                     force: bool, json_out: bool = False) -> None:
    from rich.markup import escape  # paths and names are the user's: never rich markup

    from ..dockerfile.generate import Options
    from ..dockerfile.write import plan
    from ..fsutil import write_bytes
    from ..gobuild.toolchain import find_toolchain

    to_stdout = output is not None and str(output) == "-"
    opts = Options(upx=upx, debug=debug, debug_continue=debug_continue, cgo=cgo, syntax=syntax, builder=builder)
    opts.check()
    if to_stdout and json_out:
        raise BadInput("-o - and --json both want stdout: write the Dockerfile to a file with -o FILE")
    p = plan(directory, toolchain=find_toolchain(), output=None if to_stdout else output, base=base, opts=opts,
             pin_digests=pin_digests, force=force or to_stdout)
    ui = Ui(json_mode=json_out)
    for note in p.notes:
        ui.note(note)
    if to_stdout:
        sys.stdout.write(p.text)
        return
    write_bytes(p.dockerfile, p.text.encode())
    new_ignore = not p.dockerignore.exists()
    if new_ignore:
        write_bytes(p.dockerignore, p.dockerignore_text.encode())
    if json_out:
        emit_json(p.to_json(wrote_dockerfile=True, wrote_dockerignore=new_ignore))
        return
    ui.out.print(f"wrote {escape(str(p.dockerfile))}")
    if new_ignore:
        ui.out.print(f"wrote {escape(str(p.dockerignore))}")
    ui.out.print(f"build it: [bold]{escape(p.build_command)}[/]", highlight=False)


@click.command()
@click.argument("directory", default=".", required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where to write (default DIR/Dockerfile; - for stdout).")
@click.option("--base", help="Runtime base image; scratch adds the CA bundle and zoneinfo when the program uses "
              "them, cgo programs get distroless base or cc. [default: gcr.io/distroless/static-debian12:nonroot]")
@click.option("--builder", help="Builder image. [default: golang:VERSION, from go.mod's toolchain or go line]")
@click.option("--cgo", is_flag=True, help="Build with CGO_ENABLED=1 (automatic when a package only builds with cgo).")
@click.option("--upx", is_flag=True, help="Pack the binary with a pinned, checksummed UPX release, after stripping.")
@click.option("--debug", is_flag=True, help="A Delve image: -gcflags all=-N -l, dlv exec --headless on :2345.")
@click.option("--debug-continue", is_flag=True, help="With --debug: start the program without waiting for a client.")
@click.option("--pin", "pin_digests", is_flag=True, help="Resolve each image tag to its digest now and write both.")
@click.option("--syntax", is_flag=True, help="Add a `# syntax=docker/dockerfile:1` line (needs network at build).")
@click.option("--force", is_flag=True, help="Overwrite an existing Dockerfile.")
@json_options
def dockerfile(directory: str, output: Path | None, base: str | None, builder: str | None, cgo: bool, upx: bool,
               debug: bool, debug_continue: bool, pin_digests: bool, syntax: bool, force: bool,
               json_out: bool) -> None:
    """Write an optimized multi-stage Dockerfile (and a .dockerignore) for a Go main package."""
    write_dockerfile(directory, output, base, builder, cgo, upx, debug, debug_continue, pin_digests, syntax, force,
                     json_out)
