"""`slimgo build`: flags → BuildRequest → the build pipeline → summary or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .edge import Ui, credentials, json_options, split_list

if TYPE_CHECKING:
    from ..pipeline import BuildRequest, BuildResult


def run_build(req: BuildRequest, ui: Ui, json_out: bool) -> BuildResult:
    from ..pipeline import build
    from ..report.build_summary import render

    with ui.progress(f"building {req.target}") as progress:
        result = build(req, progress)
    for note in result.notes:
        ui.note(note)
    if json_out:
        ui.emit_json(result.to_json())
    else:
        render(result, ui.out)
    return result


@click.command()
@click.argument("target", default=".", required=False)
@click.option("--ldflags", help="Extra linker flags, appended after slimgo's '-s -w -buildid=' (later wins).")
@click.option("--gcflags", help="Compiler flags (go build -gcflags). [default: none]")
@click.option("--tags", "build_tags", help="Comma-separated Go build tags. [default: none]")
@click.option("--env", "env", multiple=True, metavar="KEY=VAL",
              help="Build environment (e.g. CGO_ENABLED=1); GOOS/GOARCH/GOARM become the platform. "
                   "[default: CGO_ENABLED=0]")
@click.option("--base", help="Base: static, static-full, scratch, a registry REF, oci:DIR[:tag], "
                              "docker-archive:FILE, docker-daemon:NAME. [default: static]")
@click.option("--user", help="Image user, UID[:GID] (ids 0-2147483647) or NAME[:GROUP]. "
                             "[default: 65532:65532 on the static base]")
@click.option("--platform", "platforms", help="Comma-separated platforms, e.g. linux/amd64,linux/arm64, or all. "
                                              "[default: the Go toolchain's GOARCH on linux]")
@click.option("--compression", type=click.Choice(["gzip", "zstd", "none"]), help="Layer compression. [default: gzip]")
@click.option("--compression-level", type=int, help="gzip 0-9 (isal 0-3), zstd 1-22. [default: gzip 6, isal 3, zstd 19]")
@click.option("--gzip-library", "compression_library", type=click.Choice(["zlib", "zlib-ng", "isal"]),
              help="Deflate library for gzip layers: zlib-ng and isal are faster, with other sizes (README: "
                   "Performance); they need slimgo[fast]. [default: zlib]")
@click.option("--data", type=click.Path(path_type=Path),
              help="Directory copied to /app/data ($SLIMGO_DATA_PATH). [default: none]")
@click.option("--tag", "-t", "image_tags", multiple=True, help="Image name[:tag]; repeatable. [default: NAME]")
@click.option("--oci-layout", type=click.Path(path_type=Path), help="Write an OCI image layout directory.")
@click.option("--tarball", "-o", type=click.Path(path_type=Path),
              help="Write a docker-archive (also an OCI layout). [default: dist/NAME.tar when no other output]")
@click.option("--image-refs", type=click.Path(path_type=Path), help="Write NAME@DIGEST lines for CI/signing.")
@click.option("--push", "push", is_flag=False, flag_value="", default=None, metavar="[REF]",
              help="Push to a registry (REF, or $SLIMGO_REPO/NAME when REF is omitted).")
@click.option("--load", is_flag=True, help="Load the image into the Docker engine ($DOCKER_HOST).")
@click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST",
              help="Allow plain HTTP to HOST (loopback registries always may).")
@click.option("--username", help="Registry user (password from --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin.")
@click.option("--reference", is_flag=True,
              help="Also run a plain `go build` of the package, to measure the reduction. [default: off]")
@click.option("--no-reference", is_flag=True, hidden=True, help="No effect (the reference build is opt-in).")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached layers (the base, and the binary's compressed layer).")
@click.option("--debug", is_flag=True, default=None,
              help="Debug image: -gcflags 'all=-N -l', symbols kept, Delve headless on :2345 as entrypoint.")
@click.option("--debug-continue", is_flag=True, default=None,
              help="Debug image whose program starts at once instead of waiting for a debugger.")
@click.option("--delve-version", metavar="vX.Y.Z", help="Delve release for --debug (default: slimgo's pinned one).")
@click.option("--debug-config", type=click.Path(path_type=Path), metavar="DIR",
              help="With --debug: write launch.json (VS Code) and dlv-init (dlv connect) into DIR.")
@click.option("--trimpath/--no-trimpath", default=None, help="Build with -trimpath. [default: on]")
@json_options
def build(target: str, ldflags: str | None, gcflags: str | None, build_tags: str | None, env: tuple[str, ...],
          base: str | None, user: str | None, platforms: str | None, compression: str | None,
          compression_level: int | None, compression_library: str | None, data: Path | None,
          image_tags: tuple[str, ...], oci_layout: Path | None,
          tarball: Path | None, image_refs: Path | None, push: str | None, load: bool, insecure: tuple[str, ...],
          username: str | None, password_stdin: bool, reference: bool, no_reference: bool, no_cache: bool,
          debug: bool | None, debug_continue: bool | None, delve_version: str | None, debug_config: Path | None,
          trimpath: bool | None, json_out: bool) -> None:
    """Compile a Go main package (DIR or module/path@version) into a minimal OCI image, daemonlessly."""
    from ..config import BuildConfig, parse_env
    from ..pipeline import BuildRequest

    settings = BuildConfig(
        ldflags=ldflags, gcflags=gcflags, tags=split_list(build_tags), env=parse_env(list(env), "--env"),
        base=base, user=user, platforms=split_list(platforms) or None,
        compression=compression, compression_level=compression_level, compression_library=compression_library,
        data=str(data) if data else None,
        debug=debug, debug_continue=debug_continue, delve_version=delve_version, trimpath=trimpath)
    req = BuildRequest(
        target=target, settings=settings,
        image_tags=list(image_tags), oci_layout=oci_layout, tarball=tarball, image_refs=image_refs,
        reference_build=reference and not no_reference, cache=not no_cache, push=push, load=load,
        insecure_registries=list(insecure), credentials=credentials(username, password_stdin),
        debug_config=debug_config,
    )
    run_build(req, Ui(json_out), json_out)
