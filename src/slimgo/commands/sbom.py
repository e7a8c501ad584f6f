"""`slimgo sbom REF`: print the SBOM attached to an image, found through its OCI 1.1 referrers."""

from __future__ import annotations

import json

import click

from .edge import credentials, emit_json, json_options

KINDS = {"spdx": "application/spdx+json", "cyclonedx": "application/vnd.cyclonedx+json",
         "provenance": "application/vnd.in-toto+json"}
SCHEMA_VERSION = 1


@click.command()
@click.argument("ref")
@click.option("--artifact", "kind", type=click.Choice(["sbom", *KINDS]), default="sbom", show_default=True,
              help="Which attached document: sbom (SPDX, else CycloneDX), one format, or the SLSA provenance.")
@click.option("--platform", help="The platform's image of a multi-platform image. [default: the first]")
@click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST",
              help="Allow plain HTTP to HOST (loopback registries always may).")
@click.option("--username", help="Registry user (password from --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin.")
@json_options
def sbom(ref: str, kind: str, platform: str | None, insecure: tuple[str, ...], username: str | None,
         password_stdin: bool, json_out: bool) -> None:
    """Print the SBOM of REF (oci:DIR[:tag], docker-archive:FILE or a registry reference): the document
    itself, or with --json one document holding it and where it was found."""
    from ..errors import CheckFailed, ImageFormatError
    from ..oci.transports import image_ref
    from ..platform import Platform
    from ..registries import RegistryPool
    from ..supplychain.referrers import find_referrers

    ref = image_ref(ref)
    wanted = Platform.parse(platform) if platform else None
    pool = RegistryPool(credentials(username, password_stdin), insecure)
    types = [KINDS[kind]] if kind != "sbom" else [KINDS["spdx"], KINDS["cyclonedx"]]
    found = [r for r in find_referrers(ref, pool, wanted) if r.artifact_type in types]
    if not found:
        raise CheckFailed(f"{ref}: no {kind if kind != 'sbom' else 'SBOM'} is attached (see `slimgo build --sbom`)")
    found.sort(key=lambda r: types.index(r.artifact_type))
    data = found[0].read()
    if not json_out:
        click.echo(data.decode("utf-8", "replace"), nl=False)
        return
    try:
        document = json.loads(data)
    except ValueError:
        raise ImageFormatError(f"{ref}: the attached {found[0].artifact_type} document is not JSON") from None
    emit_json({"schema_version": SCHEMA_VERSION, "ref": ref, "artifact_type": found[0].artifact_type,
               "digest": found[0].digest, "subject": found[0].subject, "document": document})
