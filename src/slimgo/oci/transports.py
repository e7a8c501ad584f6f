"""The image transports slimgo reads and writes, spelled as skopeo and crane spell them.

One table, so that `--base`, `analyze` and the sources agree on what `oci:…` or `docker-daemon:…` means;
anything without a transport prefix is a registry reference.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

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


def sniff_path(target: str) -> str | None:
    """The prefixed spec of a plain path to a layout directory or an image tar, else None.

    People pass `docker save` output and layout directories as plain paths; looking such a name up in a
    registry (with retries) would only turn a typo-free command into a network error."""
    if is_local(target):
        return target
    path = Path(target)
    if path.is_dir() and (path / "index.json").is_file():
        return f"{OCI_LAYOUT.prefix}{target}"
    if path.is_file() and tarfile.is_tarfile(path):
        return f"{DOCKER_ARCHIVE.prefix}{target}"
    return None


def image_ref(target: str) -> str:
    """A command's image argument: a plain local path gets its transport, anything else stays as given.

    A missing file that can only be a path (`./x`, `/x`, `x.tar`) is an error here, not a registry lookup
    that ends in a network error after its retries."""
    spec = sniff_path(target)
    if spec is not None:
        return spec
    if target.startswith(("/", "./", "../", "~")) or target.endswith((".tar", ".tar.gz", ".tgz")):
        path = Path(target).expanduser()
        if path.is_dir():
            raise BadInput(f"{target}: a directory, but not an OCI image layout (no index.json)")
        if path.exists():
            raise BadInput(f"{target}: not an image (an OCI layout directory or a `docker save` tar is)")
        raise BadInput(f"{target}: no such image file or OCI layout directory")
    return target
