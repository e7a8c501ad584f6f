"""`slimgo dockerfile`: a Go main package → an optimized multi-stage Dockerfile and a .dockerignore."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import SlimgoError
from .edge import Ui


def write_dockerfile(directory: str, output: Path | None, base: str | None, upx: bool, debug: bool, syntax: bool,
                     force: bool) -> None:
    from ..dockerfile.generate import DOCKERIGNORE, build_command, module_facts, render
    from ..fsutil import write_bytes
    from ..gobuild.target import resolve
    from ..gobuild.toolchain import find_toolchain

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


@click.command()
@click.argument("directory", default=".", required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where to write (default DIR/Dockerfile; - for stdout).")
@click.option("--base", help="Runtime base image. [default: gcr.io/distroless/static-debian12:nonroot]")
@click.option("--upx", is_flag=True, help="Pack the binary with UPX in the builder, after stripping.")
@click.option("--debug", is_flag=True, help="A Delve variant: -gcflags all=-N -l, dlv exec --headless on :2345.")
@click.option("--syntax", is_flag=True, help="Add a `# syntax=docker/dockerfile:1` line (needs network at build).")
@click.option("--force", is_flag=True, help="Overwrite an existing Dockerfile.")
def dockerfile(directory: str, output: Path | None, base: str | None, upx: bool, debug: bool, syntax: bool,
               force: bool) -> None:
    """Write an optimized multi-stage Dockerfile (and a .dockerignore) for a Go main package."""
    write_dockerfile(directory, output, base, upx, debug, syntax, force)
