"""`slimgo sbom REF`: print the SBOM attached to an image, found through its OCI 1.1 referrers."""

from __future__ import annotations

import click

from .edge import credentials

KINDS = {"spdx": "application/spdx+json", "cyclonedx": "application/vnd.cyclonedx+json",
         "provenance": "application/vnd.in-toto+json"}


@click.command()
@click.argument("ref")
@click.option("--format", "kind", type=click.Choice(["any", *KINDS]), default="any", show_default=True,
              help="Which attached document to print (provenance: the SLSA statement).")
@click.option("--platform", help="The platform's image of a multi-platform image. [default: the first]")
@click.option("--insecure-registry", "insecure", multiple=True, metavar="HOST",
              help="Allow plain HTTP to HOST (loopback registries always may).")
@click.option("--username", help="Registry user (password from --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin.")
def sbom(ref: str, kind: str, platform: str | None, insecure: tuple[str, ...], username: str | None,
         password_stdin: bool) -> None:
    """Print the SBOM of REF (oci:DIR[:tag], docker-archive:FILE or a registry reference) to stdout."""
    from ..errors import CheckFailed
    from ..platform import Platform
    from ..registries import RegistryPool
    from ..supplychain.referrers import find_referrers

    wanted = Platform.parse(platform) if platform else None
    pool = RegistryPool(credentials(username, password_stdin), insecure)
    types = [KINDS[kind]] if kind != "any" else [KINDS["spdx"], KINDS["cyclonedx"]]
    found = [r for r in find_referrers(ref, pool, wanted) if r.artifact_type in types]
    if not found:
        raise CheckFailed(f"{ref}: no {kind if kind != 'any' else 'SBOM'} is attached (see `slimgo build --sbom`)")
    found.sort(key=lambda r: types.index(r.artifact_type))
    click.echo(found[0].read().decode("utf-8", "replace"), nl=False)
