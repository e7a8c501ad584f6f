"""Read images from an OCI layout directory or a docker-archive tar, verifying every blob's digest.

Both give the same thing: for each platform, the config and an opener per layer. Nothing is unpacked to
disk; readers stream layer tars from the blobs.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, Callable, cast

from ..errors import BadInput, ImageFormatError
from ..oci.mediatypes import INDEXES, MANIFESTS

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
    platform: str
    config: dict[str, Any]
    layers: tuple[SourceLayer, ...]
    manifest_digest: str = ""


def _verify(data: bytes, digest: str, what: str) -> bytes:
    algo, _, hexd = digest.partition(":")
    if algo != "sha256" or hashlib.sha256(data).hexdigest() != hexd:
        raise ImageFormatError(f"{what}: digest mismatch (expected {digest})")
    return data


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
            doc = json.loads(_verify(data, digest, what))
        except ValueError:
            raise ImageFormatError(f"{what} {digest} is not JSON") from None
        if not isinstance(doc, dict):
            raise ImageFormatError(f"{what} {digest} is not a JSON object")
        return doc

    def layer(self, desc: dict[str, Any]) -> SourceLayer:
        digest = str(desc.get("digest", ""))

        def opener() -> IO[bytes]:
            fh = self._open(digest)
            if fh is None:
                raise ImageFormatError(f"layer {digest} is missing")
            return cast(IO[bytes], _VerifyingReader(fh, digest))

        return SourceLayer(digest, str(desc.get("mediaType", "")), int(desc.get("size", 0)), opener)


class _VerifyingReader(io.RawIOBase):
    """Hashes as it is read; at EOF a mismatch raises, so a corrupted layer never passes silently."""

    def __init__(self, inner: IO[bytes], digest: str) -> None:
        self.inner, self.digest, self.h = inner, digest, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.inner.read(len(b))
        if not data:
            if "sha256:" + self.h.hexdigest() != self.digest:
                raise ImageFormatError(f"layer {self.digest}: digest mismatch")
            return 0
        self.h.update(data)
        b[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


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
    manifest = blobs.json(digest, "manifest")
    cfg_desc = manifest.get("config") or {}
    config = blobs.json(str(cfg_desc.get("digest", "")), "config")
    platform = "/".join(x for x in (config.get("os", ""), config.get("architecture", ""), config.get("variant", "")) if x)
    layers = tuple(blobs.layer(d) for d in manifest.get("layers") or [])
    return SourceImage(ref, platform, config, layers, digest)


def open_layout(spec: str) -> list[SourceImage]:
    """`oci:DIR[:tag]`."""
    body = spec[len("oci:"):]
    path_str, tag = body, None
    if ":" in body and not Path(body).exists():
        path_str, tag = body.rsplit(":", 1)
    root = Path(path_str)
    if not (root / "index.json").is_file():
        raise BadInput(f"{spec}: not an OCI image layout (no index.json)")

    def blob_path(digest: str) -> Path | None:
        algo, _, hexd = digest.partition(":")
        if algo != "sha256" or len(hexd) != 64 or not all(c in "0123456789abcdef" for c in hexd):
            return None
        p = root / "blobs" / "sha256" / hexd
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
        raise ImageFormatError(f"{spec}: index.json is not JSON") from None
    return _images_from_index(_Blobs(read, opener), index, spec, tag)


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    fh = tar.extractfile(member)
    if fh is None:
        raise ImageFormatError(f"{member.name}: not a regular file in the archive")
    return fh


def open_archive(spec: str) -> list[SourceImage]:
    """`docker-archive:FILE`: an OCI layout in a tar if it has index.json, else Docker's manifest.json."""
    path = Path(spec[len("docker-archive:"):])
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
            layers.append(SourceLayer(name, "", m.size, partial(_member, tar, m)))
        platform = f"{config.get('os', '')}/{config.get('architecture', '')}"
        out.append(SourceImage(spec, platform, config, tuple(layers)))
    return out


def open_image(spec: str) -> list[SourceImage]:
    if spec.startswith("oci:"):
        return open_layout(spec)
    if spec.startswith("docker-archive:"):
        return open_archive(spec)
    raise BadInput(f"{spec}: unknown image reference (use oci:DIR[:tag] or docker-archive:FILE)")


def open_local(spec: str, work: Path) -> list[SourceImage]:
    """Like open_image, plus `docker-daemon:NAME`, saved from the engine into `work` (which must outlive
    the returned images: their layers are read from that file)."""
    if spec.startswith("docker-daemon:"):
        from ..sinks.daemon import save_image

        archive = save_image(spec[len("docker-daemon:"):], work / "daemon-image.tar")
        return open_image(f"docker-archive:{archive}")
    return open_image(spec)
