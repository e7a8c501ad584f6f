"""Read images from an OCI layout directory, a docker-archive tar or a Docker engine, verifying blob digests.

All give the same thing: for each platform, the config and an opener per layer. Nothing is unpacked to
disk; readers stream layer tars from the blobs.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, Callable, cast

from ..errors import BadInput, ImageFormatError
from ..oci.digest import Digest, DigestError, DigestingReader, parse_size
from ..oci.mediatypes import INDEXES, MANIFESTS
from ..oci.transports import DOCKER_ARCHIVE, DOCKER_DAEMON, OCI_LAYOUT, TRANSPORTS, ImageSpec, split
from ..oci.views import ManifestView
from ..platform import Platform

MAX_JSON = 16 << 20


@dataclass(frozen=True)
class SourceLayer:
    digest: str
    media_type: str
    size: int
    open: Callable[[], IO[bytes]]


@dataclass(frozen=True)
class SourceImage:
    ref: str
    platform: Platform
    config: dict[str, Any]
    layers: tuple[SourceLayer, ...]
    manifest_digest: str = ""


class _Blobs:
    """Blob access by digest, for a directory or a tar."""

    def __init__(self, read: Callable[[str], bytes | None], opener: Callable[[str], IO[bytes] | None]) -> None:
        self._read = read
        self._open = opener

    def json(self, digest: str, what: str) -> dict[str, Any]:
        data = self._read(digest)
        if data is None:
            raise ImageFormatError(f"{what} {digest} is missing")
        if len(data) > MAX_JSON:
            raise ImageFormatError(f"{what} {digest} is implausibly large")
        try:
            doc = json.loads(Digest.parse(digest, what).verify(data, what))
        except ValueError:
            raise ImageFormatError(f"{what} {digest} is not JSON") from None
        if not isinstance(doc, dict):
            raise ImageFormatError(f"{what} {digest} is not a JSON object")
        return doc

    def layer(self, desc: dict[str, Any]) -> SourceLayer:
        digest = str(desc.get("digest", ""))
        what = f"layer {digest}"
        size = parse_size(desc.get("size", 0), what)

        def opener() -> IO[bytes]:
            expected = Digest.parse(digest, what)
            fh = self._open(digest)
            if fh is None:
                raise ImageFormatError(f"{what} is missing")
            return cast(IO[bytes], DigestingReader(fh, expected, size=size, what=what))

        return SourceLayer(digest, str(desc.get("mediaType", "")), size, opener)


def _images_from_index(blobs: _Blobs, index: dict[str, Any], ref: str, wanted_tag: str | None) -> list[SourceImage]:
    manifests = index.get("manifests") or []
    if wanted_tag is not None:
        manifests = [m for m in manifests
                     if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == wanted_tag]
        if not manifests:
            raise BadInput(f"{ref}: no image tagged {wanted_tag!r}")
    out: list[SourceImage] = []
    seen: set[str] = set()
    for desc in manifests:
        digest = desc.get("digest", "")
        if digest in seen:
            continue
        seen.add(digest)
        mt = desc.get("mediaType", "")
        if mt in INDEXES:
            out.extend(_images_from_index(blobs, blobs.json(digest, "index"), ref, None))
        elif mt in MANIFESTS or not mt:
            out.append(_image(blobs, digest, ref))
    return out


def _image(blobs: _Blobs, digest: str, ref: str) -> SourceImage:
    manifest = ManifestView(blobs.json(digest, "manifest"))
    config = blobs.json(str(manifest.config.get("digest", "")), "config")
    layers = tuple(blobs.layer(dict(d)) for d in manifest.layers)
    return SourceImage(ref, Platform.from_oci(config), config, layers, digest)


def open_layout(spec: ImageSpec) -> list[SourceImage]:
    """`oci:DIR[:tag]`."""
    body = spec.rest
    path_str, tag = body, None
    if ":" in body and not Path(body).exists():
        path_str, tag = body.rsplit(":", 1)
    root = Path(path_str)
    if not (root / "index.json").is_file():
        raise BadInput(f"{spec.text}: not an OCI image layout (no index.json)")

    def blob_path(digest: str) -> Path | None:
        try:
            p = root.joinpath("blobs", *Digest.parse(digest).parts)
        except DigestError:
            return None
        return p if p.is_file() else None

    def read(digest: str) -> bytes | None:
        p = blob_path(digest)
        return p.read_bytes() if p else None

    def opener(digest: str) -> IO[bytes] | None:
        p = blob_path(digest)
        return open(p, "rb") if p else None

    try:
        index = json.loads((root / "index.json").read_text())
    except ValueError:
        raise ImageFormatError(f"{spec.text}: index.json is not JSON") from None
    return _images_from_index(_Blobs(read, opener), index, spec.text, tag)


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    fh = tar.extractfile(member)
    if fh is None:
        raise ImageFormatError(f"{member.name}: not a regular file in the archive")
    return fh


def open_archive(image_spec: ImageSpec) -> list[SourceImage]:
    """`docker-archive:FILE`: an OCI layout in a tar if it has index.json, else Docker's manifest.json."""
    spec = image_spec.text
    path = Path(image_spec.rest)
    if not path.is_file():
        raise BadInput(f"{spec}: no such file")
    try:
        tar = tarfile.open(path)
    except tarfile.TarError:
        raise BadInput(f"{spec}: not a tar archive") from None
    members = {m.name.lstrip("./"): m for m in tar.getmembers() if m.isfile()}

    def member_bytes(name: str) -> bytes | None:
        m = members.get(name)
        if m is None:
            return None
        fh = tar.extractfile(m)
        return fh.read() if fh else None

    def read(digest: str) -> bytes | None:
        return member_bytes(f"blobs/sha256/{digest.partition(':')[2]}")

    def opener(digest: str) -> IO[bytes] | None:
        m = members.get(f"blobs/sha256/{digest.partition(':')[2]}")
        return tar.extractfile(m) if m else None

    def computed(m: tarfile.TarInfo, what: str) -> IO[bytes]:
        """A layer named by path (Docker's manifest.json): its digest is computed while it is read."""
        return cast(IO[bytes], DigestingReader(_member(tar, m), None, size=m.size, what=what))

    if "index.json" in members:
        index = json.loads(member_bytes("index.json") or b"{}")
        return _images_from_index(_Blobs(read, opener), index, spec, None)
    raw = member_bytes("manifest.json")
    if raw is None:
        raise BadInput(f"{spec}: neither index.json nor manifest.json in the archive")
    out = []
    for entry in json.loads(raw):
        config_bytes = member_bytes(entry["Config"])
        if config_bytes is None:
            raise ImageFormatError(f"{spec}: config {entry['Config']} missing")
        config = json.loads(config_bytes)
        layers = []
        for name in entry.get("Layers", []):
            m = members.get(name)
            if m is None:
                raise ImageFormatError(f"{spec}: layer {name} missing")
            layers.append(SourceLayer(name, "", m.size, partial(computed, m, f"{spec}: layer {name}")))
        out.append(SourceImage(spec, Platform.from_oci(config), config, tuple(layers)))
    return out


def open_image(text: str, work: Path | None = None) -> list[SourceImage]:
    """Every platform's image behind a transport reference; `docker-daemon:` needs a work directory to save
    the engine's archive into (without one, only the offline transports are accepted)."""
    spec = split(text)
    if spec.transport is OCI_LAYOUT:
        return open_layout(spec)
    if spec.transport is DOCKER_ARCHIVE:
        return open_archive(spec)
    if spec.transport is DOCKER_DAEMON and work is not None:
        from .daemon import save_image

        archive = save_image(spec.rest, work / "daemon-image.tar")
        return open_archive(split(f"{DOCKER_ARCHIVE.prefix}{archive}"))
    usable = [t.syntax for t in TRANSPORTS if t.offline or work is not None]
    raise BadInput(f"{text}: unknown image reference (use {' or '.join(usable)})")
