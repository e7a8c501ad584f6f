"""The image transports slimgo reads and writes, spelled as skopeo and crane spell them.

One table, so that `--base`, `analyze` and the sources agree on what `oci:…` or `docker-daemon:…` means;
anything without a transport prefix is a registry reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInput


@dataclass(frozen=True)
class Transport:
    prefix: str
    syntax: str  # for help texts and error messages
    offline: bool  # readable without an engine or a network


OCI_LAYOUT = Transport("oci:", "oci:DIR[:tag]", True)
DOCKER_ARCHIVE = Transport("docker-archive:", "docker-archive:FILE", True)
DOCKER_DAEMON = Transport("docker-daemon:", "docker-daemon:NAME", False)
TRANSPORTS = (OCI_LAYOUT, DOCKER_ARCHIVE, DOCKER_DAEMON)


@dataclass(frozen=True)
class ImageSpec:
    """`TRANSPORT:REST`, or a registry reference when transport is None."""

    transport: Transport | None
    rest: str
    text: str

    @property
    def is_registry(self) -> bool:
        return self.transport is None


def split(text: str) -> ImageSpec:
    for t in TRANSPORTS:
        if text.startswith(t.prefix):
            rest = text[len(t.prefix):]
            if not rest:
                raise BadInput(f"{text}: expected {t.syntax}")
            return ImageSpec(t, rest, text)
    return ImageSpec(None, text, text)


def is_local(text: str, *, offline_only: bool = False) -> bool:
    """Names an image on this machine (a layout, an archive or, unless offline_only, the engine)."""
    t = next((t for t in TRANSPORTS if text.startswith(t.prefix)), None)
    return t is not None and (t.offline or not offline_only)


def syntaxes(*, offline_only: bool = False) -> str:
    return ", ".join(t.syntax for t in TRANSPORTS if t.offline or not offline_only)
