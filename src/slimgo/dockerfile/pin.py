"""`slimgo dockerfile --pin`: replace image tags by the digests they point to now.

A tag moves (golang:1.22 gets every patch release); a digest does not, so a pinned Dockerfile builds the
same bytes until someone updates the pin on purpose. The digest is the one a `docker pull` of the tag
resolves to: the index's for multi-platform images, so every platform stays buildable. The registry is
asked first; when it cannot be reached, the local engine's record of its last pull (RepoDigests) is used
and the caller says so, since that pull may be older than the tag.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..errors import BadInput, RemoteError
from ..oci.reference import Reference

RegistryFor = Callable[[str], Any]
EngineDigest = Callable[[Reference], "str | None"]


def default_registry(host: str) -> Any:
    from ..registry.auth import CredentialSource
    from ..registry.client import Policy, Registry

    return Registry(host, credentials=CredentialSource(), policy=Policy(max_tries=2))


def engine_digest(ref: Reference) -> str | None:
    """The digest the local engine recorded when it last pulled ref, if it did."""
    from ..docker_api import api

    try:
        status, body = api("GET", f"/images/{ref.with_tag()}/json")
    except BadInput:
        return None
    if status != 200:
        return None
    for repo_digest in json.loads(body).get("RepoDigests") or []:
        name, _, digest = str(repo_digest).partition("@")
        if Reference.parse(name).name == ref.name:
            return digest
    return None


def pin(ref: str, registry_for: RegistryFor = default_registry,
        engine: EngineDigest = engine_digest) -> tuple[str, str | None]:
    """`name:tag` → (`name:tag@sha256:…`, a note when the digest came from the engine, not the registry).
    A ref that already has a digest is kept."""
    parsed = Reference.parse(ref)
    if parsed.digest:
        return ref, None
    try:
        _, _, digest = registry_for(parsed.registry).get_manifest(parsed.repository, parsed.tag)
        return f"{ref}@{digest}", None
    except (BadInput, RemoteError) as exc:  # refused, or unreachable: the engine may still know the tag
        local = engine(parsed)
        if local is None:
            raise BadInput(f"--pin {ref}: {exc}; the local engine has not pulled it either") from None
        return f"{ref}@{local}", f"--pin {ref}: registry unreachable ({exc}); used the digest of the local engine's pull"
