"""Image references: [registry/]repository[:tag][@digest], with Docker Hub's defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BadInput

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
DOCKER_HUB = "docker.io"


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str) -> "Reference":
        rest, digest = text, ""
        if "@" in rest:
            rest, digest = rest.split("@", 1)
            if not _DIGEST.match(digest):
                raise BadInput(f"image reference {text!r}: bad digest {digest!r}")
        tag = ""
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1:]
            if not _TAG.match(tag):
                raise BadInput(f"image reference {text!r}: bad tag {tag!r}")
        first, _, remainder = rest.partition("/")
        if remainder and ("." in first or ":" in first or first == "localhost"):
            registry, repo = first, remainder
        else:
            registry, repo = DOCKER_HUB, rest
        if registry == DOCKER_HUB and "/" not in repo:
            repo = f"library/{repo}"
        if not repo or not _REPO.match(repo):
            raise BadInput(f"image reference {text!r}: bad repository name {repo!r} (lower case, digits, . _ -)")
        if not tag and not digest:
            tag = "latest"
        return cls(registry, repo, tag, digest)

    @property
    def short_name(self) -> str:
        """The name as Docker prints it: no docker.io/library/ prefix."""
        if self.registry == DOCKER_HUB:
            return self.repository.removeprefix("library/")
        return f"{self.registry}/{self.repository}"

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def with_tag(self) -> str:
        return f"{self.short_name}:{self.tag or 'latest'}"

    def with_digest(self, digest: str) -> str:
        return f"{self.short_name}@{digest}"

    def __str__(self) -> str:
        out = self.short_name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out
