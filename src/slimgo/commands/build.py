"""`slimgo build`: flags → BuildRequest → the build pipeline → summary or JSON."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .edge import EXIT_OK, Ui, credentials, escape, json_options, key_signer, split_list

if TYPE_CHECKING:
    from ..many.build import ManyRequest, ManyResult
    from ..many.naming import Naming
    from ..pipeline import BuildRequest, BuildResult


def run_build(req: BuildRequest, ui: Ui, json_out: bool) -> BuildResult:
    from ..pipeline import build

    with ui.progress(f"building {req.target}") as progress:
        result = build(req, progress)
    for note in result.notes:
        ui.note(note)
    if json_out:
        ui.emit_json(result.to_json())
    else:
        from ..report.build_summary import render  # rich's tables: only for people

        render(result, ui.out)
    return result


def run_many(req: ManyRequest, ui: Ui, json_out: bool) -> ManyResult:
    from ..many.build import build_many

    with ui.progress(f"building {' '.join(req.targets)}") as progress:
        result = build_many(req, progress)
    if json_out:
        ui.emit_json(result.to_json())
        return result
    for p in result.programs:
        for note in (p.result.notes if p.result else []):
            ui.note(f"{p.package}: {note}")
        if p.image_ref:
            ui.out.print(p.image_ref)
    for p in result.failed:
        ui.err.print(f"[bold red]failed:[/] {escape(f'{p.package}: {p.error}')}")
    loaded = [p for p in result.programs if p.image_ref]
    if result.outputs.get("loaded") and loaded:  # as for one image: NAME@sha256 is no name the engine knows
        caveat = "" if result.push_stats is not None else "; the name@sha256 lines are for a registry: the engine may " \
            "not know them"
        ui.note(f"loaded into the Docker engine: run one as `docker run --rm {loaded[0].repository}:latest`{caveat}")
    ui.err.print(result.summary)
    return result


def naming_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """ko's naming flags, shared by `build` (several programs) and `resolve`."""
    for option in reversed([
        click.option("--bare", "naming", flag_value="bare", help="Push to PREFIX itself (one program only; ko --bare)."),
        click.option("--base-import-paths", "-B", "naming", flag_value="base",
                     help="PREFIX/<last element of the import path> (ko -B)."),
        click.option("--preserve-import-paths", "-P", "naming", flag_value="preserve",
                     help="PREFIX/<import path> (ko -P)."),
        click.option("--jobs", "-j", type=int, default=None,
                     help="Programs built at once. [default: 2, or one per two cores]")]):
        command = option(command)
    return command


def naming_of(naming: str | None) -> Naming:
    from ..many.naming import Naming

    return Naming(naming or "hashed")


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--ldflags", help="Extra linker flags, appended after slimgo's '-s -w' (later wins).")
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
@click.option("--compression-level", type=int,
              help="gzip 0-9 (isal 0-3, libdeflate 0-12), zstd 1-22. [default: gzip 6, isal 3, zstd 19]")
@click.option("--gzip-library", "compression_library", type=click.Choice(["zlib", "zlib-ng", "isal", "libdeflate"]),
              help="Deflate library for the program's gzip layers: libdeflate (one gzip member per 1 MiB block) is "
                   "smaller and faster than zlib; zlib writes one member; zlib-ng and isal are faster and larger "
                   "(README: Performance; these two need slimgo[fast]). [default: libdeflate]")
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
@click.option("--upx", is_flag=True, help="Pack the binary with UPX, then verify it and measure its cost (see README).")
@click.option("--upx-args", metavar="ARGS", help="UPX compression options (default '--best --lzma'); implies --upx.")
@click.option("--upx-path", metavar="FILE", help="The UPX to use (default: $SLIMGO_UPX, then upx on PATH).")
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
@click.option("--builder", metavar="ADDRESS",
              help="Compile in a BuildKit daemon: buildkit://HOST:PORT, tcp://, unix://, docker-container://, "
                   "kube-pod:// (needs buildctl; see README). [default: this machine]")
@click.option("--builder-image", metavar="IMAGE",
              help="Go toolchain image the builder compiles in (buildkitd pulls it). "
                   "[default: golang:<the local build's Go release>]")
@naming_options
@click.option("--sbom", type=click.Choice(["spdx", "cyclonedx", "none"]), default="spdx", show_default=True,
              help="SBOM attached to every image as an OCI 1.1 referrer (SPDX 2.3 or CycloneDX 1.6 JSON).")
@click.option("--provenance/--no-provenance", default=True, show_default=True,
              help="Attach SLSA v1 provenance (in-toto) to every image as an OCI 1.1 referrer.")
@click.option("--sign-key", type=click.Path(path_type=Path), metavar="FILE",
              help="Sign the image and its SBOM/provenance with a cosign key (password: $COSIGN_PASSWORD, else "
                   "asked on the terminal).")
@json_options
def build(targets: tuple[str, ...], ldflags: str | None, gcflags: str | None, build_tags: str | None, env: tuple[str, ...],
          base: str | None, user: str | None, platforms: str | None, compression: str | None,
          compression_level: int | None, compression_library: str | None, data: Path | None,
          image_tags: tuple[str, ...], oci_layout: Path | None,
          tarball: Path | None, image_refs: Path | None, push: str | None, load: bool, insecure: tuple[str, ...],
          username: str | None, password_stdin: bool, upx: bool, upx_args: str | None,
          upx_path: str | None, reference: bool, no_reference: bool, no_cache: bool,
          debug: bool | None, debug_continue: bool | None, delve_version: str | None, debug_config: Path | None,
          trimpath: bool | None, builder: str | None, builder_image: str | None, naming: str | None,
          jobs: int | None, sbom: str, provenance: bool, sign_key: Path | None, json_out: bool) -> int:
    """Compile Go main packages (DIR, module/path@version, ./... patterns) into minimal OCI images, daemonlessly.

    One TARGET that names one program builds one image (the default is `.`). Several TARGETs, a `...`
    pattern or a naming flag build every main package found, pushed under --push PREFIX or $SLIMGO_REPO;
    the exit status is 1 when any of them failed.
    """
    from ..gobuild.packages import is_pattern
    from ..gobuild.target import ask_early
    from ..gobuild.toolchain import EarlyAnswers

    many = len(targets) > 1 or any(is_pattern(t) for t in targets) or bool(naming) or jobs is not None
    # One program: Go answers `go env` and `go list` while Python imports the build path (EarlyAnswers),
    # asked by the entry point before click was imported (slimgo.entry), else here.
    given = click.get_current_context().find_root().obj
    if many and isinstance(given, EarlyAnswers):
        given.close()
    asked = given if isinstance(given, EarlyAnswers) else None
    with contextlib.nullcontext() if many else asked or ask_early(targets[0] if targets else ".",
                                                                                  remember=not no_cache) as early:
        from ..config import BuildConfig, parse_env
        from ..pipeline import BuildRequest

        settings = BuildConfig(
            ldflags=ldflags, gcflags=gcflags, tags=split_list(build_tags), env=parse_env(list(env), "--env"),
            base=base, user=user, platforms=split_list(platforms) or None,
            compression=compression, compression_level=compression_level, compression_library=compression_library,
            data=str(data) if data else None,
            debug=debug, debug_continue=debug_continue, delve_version=delve_version, trimpath=trimpath,
            upx=True if upx or upx_args is not None else None, upx_args=upx_args)
        req = BuildRequest(
            target=targets[0] if targets else ".", settings=settings,
            image_tags=list(image_tags), oci_layout=oci_layout, tarball=tarball, image_refs=image_refs,
            reference_build=reference and not no_reference, cache=not no_cache, push=push, load=load,
            insecure_registries=list(insecure), credentials=credentials(username, password_stdin),
            debug_config=debug_config,
            upx_path=upx_path,
            sbom=sbom, provenance=provenance, signer=key_signer(sign_key) if sign_key is not None else None,
            builder=builder, builder_image=builder_image, early=early,
        )
        if many:
            from ..many.build import DEFAULT_JOBS, ManyRequest

            programs = ManyRequest(targets, req, naming_of(naming), DEFAULT_JOBS if jobs is None else jobs)
            return run_many(programs, Ui(json_out), json_out).exit_code
        run_build(req, Ui(json_out), json_out)
        return EXIT_OK
