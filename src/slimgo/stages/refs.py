"""Where `--push` sends an image: an explicit REF, or a name under $SLIMGO_REPO (like ko's KO_DOCKER_REPO)."""

from __future__ import annotations

from ..errors import BadInput
from ..oci.reference import Reference


def push_refs(push: str, name: str, tags: tuple[Reference, ...], repo_prefix: str) -> list[Reference]:
    """`--push REF`; an empty REF (or one without a registry) goes under repo_prefix ($SLIMGO_REPO).
    Extra `--tag`s of the same name push as extra tags of the first ref."""
    repo = repo_prefix.rstrip("/")
    if not push:
        if not repo:
            raise BadInput("--push needs a REF, or SLIMGO_REPO set to a repository prefix")
        return [Reference.parse(f"{repo}/{name}:{t.tag or 'latest'}") for t in tags]
    if repo and "/" not in push.split(":")[0] and "." not in push.split("/")[0]:
        push = f"{repo}/{push}"
    first = Reference.parse(push)
    extra = [Reference.parse(f"{first.short_name}:{t.tag}") for t in tags if t.tag and t.tag != first.tag
             and t.short_name == first.short_name]
    return [first, *extra]
