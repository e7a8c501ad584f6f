"""`slimgo base push`: the embedded static base as an image of its own, multi-platform."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .edge import Ui, credentials, emit_json, escape, json_options, split_list

if TYPE_CHECKING:  # the registry client pulls in requests (~80 ms): imported only when pushing
    from ..registry.auth import CredentialSource

# variant → (CA roots, zoneinfo)
VARIANTS = {"full": (True, True), "ca": (True, False), "tz": (False, True), "minimal": (False, False)}


def publish_base(ref: str | None, variant: str, platforms: list[str], oci_layout: Path | None,
                 tarball: Path | None, insecure: list[str], credentials: CredentialSource | None,
                 local_tag: str | None = None) -> dict[str, Any]:
    from ..base.resolve import static_image
    from ..base.static import StaticBaseSpec
    from ..fsutil import user_cache_dir
    from ..oci.cache import LayerCache
    from ..oci.reference import Reference
    from ..platform import Platform
    from ..registries import RegistryPool
    from ..sinks.archive import ArchiveSink
    from ..sinks.content import Published
    from ..sinks.layout import LayoutSink
    from ..sinks.registry import RegistrySink
    from ..sinks.sink import Sink
    from ..stages.assemble import artifact_of

    spec = StaticBaseSpec(*VARIANTS[variant])
    plats = [Platform.parse(p) for p in platforms]
    refs = (Reference.parse(ref),) if ref else ()
    local_sinks: list[Sink] = [LayoutSink(oci_layout)] if oci_layout else []
    local_sinks += [ArchiveSink(tarball, plats[0].arch)] if tarball else []
    registry_sink = RegistrySink(refs, RegistryPool(credentials, tuple(insecure))) if refs else None
    for sink in local_sinks:
        sink.check()
    cache = LayerCache(user_cache_dir())
    with tempfile.TemporaryDirectory(prefix="slimgo-base-") as tmp:
        artifact = artifact_of([static_image(spec, p.oci(), Path(tmp), cache, "gzip", 6) for p in plats])
        local = (Reference.parse(local_tag),) if local_tag else refs or (Reference.parse(f"slimgo/{spec.name}"),)
        out: dict[str, Any] = {"schema_version": 1, "digest": artifact.digest, "variant": variant, "base": spec.name,
                               "refs": [], "tags": [], "platforms": [str(p) for p in plats]}
        for sink in local_sinks:
            out.update(sink.publish(Published(artifact, local)).outputs)
        if registry_sink is not None:
            pushed = registry_sink.publish(Published(artifact, refs))
            out["refs"], out["push"] = list(pushed.pushed), pushed.stats
            out["tags"] = [r.with_tag() for r in refs]  # what a user pulls by name: REF:TAG
    return out


@click.group()
def base() -> None:
    """slimgo's embedded base image, for other tools (ko, Dockerfiles) to build on."""


@base.command("push")
@click.argument("ref", required=False)
@click.option("--variant", type=click.Choice(list(VARIANTS)), default="full", show_default=True,
              help="Which optional parts to include (CA bundle, zoneinfo).")
@click.option("--platform", "platforms", default="linux/amd64,linux/arm64", show_default=True,
              help="Comma-separated platforms of the base image.")
@click.option("--oci-layout", type=click.Path(path_type=Path), help="Write an OCI layout instead of (or too).")
@click.option("--tarball", "-o", type=click.Path(path_type=Path), help="Write a docker-archive too.")
@click.option("--tag", "-t", "local_tag",
              help="Name for --oci-layout/--tarball. [default: REF, else slimgo/static]")
@click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST",
              help="Allow plain HTTP to HOST (loopback registries always may).")
@click.option("--username", help="Registry user (password from --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin.")
@json_options
def base_push(ref: str | None, variant: str, platforms: str, oci_layout: Path | None, tarball: Path | None,
              local_tag: str | None, insecure: tuple[str, ...], username: str | None, password_stdin: bool,
              json_out: bool) -> None:
    """Publish the static base (REF in a registry, and/or --oci-layout / --tarball)."""
    if ref is None and oci_layout is None and tarball is None:
        raise click.UsageError("give a REF to push to, --oci-layout DIR or --tarball FILE")
    doc = publish_base(ref, variant, split_list(platforms) or [], oci_layout, tarball,
                       list(insecure), credentials(username, password_stdin), local_tag)
    if json_out:
        emit_json(doc)
    else:
        ui = Ui()
        for line in [*doc["tags"], *doc["refs"]] or [doc["digest"]]:
            ui.out.print(escape(line))
