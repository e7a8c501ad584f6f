"""Descriptors, layers, images and indexes.

Values are immutable. The config and manifest are serialised once (sorted keys, no spaces) and their
digests are taken from exactly those bytes; sinks write those bytes and nothing re-serialises them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from ..platform import Platform
from .mediatypes import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST
from .views import ConfigView


def canonical_json(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: tuple[tuple[str, str], ...] = ()
    platform: tuple[tuple[str, str], ...] = ()
    artifact_type: str = ""  # OCI 1.1: set on descriptors of artifact manifests (SBOMs, provenance)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.platform:
            out["platform"] = dict(self.platform)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "Descriptor":
        return cls(str(doc["mediaType"]), str(doc["digest"]), int(doc["size"]),
                   tuple(sorted((doc.get("annotations") or {}).items())),
                   tuple(sorted((doc.get("platform") or {}).items())), str(doc.get("artifactType") or ""))

    @property
    def hex(self) -> str:
        return self.digest.split(":", 1)[1]


@dataclass(frozen=True)
class Layer:
    """A compressed layer blob on disk, with the digest of its uncompressed tar (the diff_id)."""

    descriptor: Descriptor
    diff_id: str
    uncompressed_size: int
    path: Path
    comment: str = ""
    origin: str = ""  # "host/repository" the blob came from, for cross-repository mounts

    @property
    def digest(self) -> str:
        return self.descriptor.digest

    @property
    def size(self) -> int:
        return self.descriptor.size

    def open(self) -> IO[bytes]:
        return open(self.path, "rb")


@dataclass(frozen=True)
class Image:
    """One platform's image: config and manifest bytes, plus the layers they name."""

    config_bytes: bytes
    manifest_bytes: bytes
    layers: tuple[Layer, ...]
    manifest_media_type: str = OCI_MANIFEST

    @property
    def config(self) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self.config_bytes))

    @property
    def manifest(self) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self.manifest_bytes))

    @property
    def digest(self) -> str:
        return sha256(self.manifest_bytes)

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor.from_json(self.manifest["config"])

    @property
    def config_view(self) -> ConfigView:
        return ConfigView(self.config)

    @property
    def platform(self) -> Platform:
        return Platform.from_oci(self.config)

    def descriptor(self, annotations: dict[str, str] | None = None, with_platform: bool = False) -> Descriptor:
        return Descriptor(self.manifest_media_type, self.digest, len(self.manifest_bytes),
                          tuple(sorted((annotations or {}).items())),
                          tuple(sorted(self.platform.oci().items())) if with_platform else ())

    @property
    def compressed_size(self) -> int:
        """What a client downloads: layers plus config (the manifest is fetched too, but is tiny)."""
        return sum(layer.size for layer in self.layers) + len(self.config_bytes)

    @property
    def uncompressed_size(self) -> int:
        return sum(layer.uncompressed_size for layer in self.layers)


@dataclass(frozen=True)
class Index:
    """A multi-platform image: an OCI image index naming one manifest per platform."""

    manifest_bytes: bytes
    images: tuple[Image, ...]

    @property
    def digest(self) -> str:
        return sha256(self.manifest_bytes)

    def descriptor(self, annotations: dict[str, str] | None = None) -> Descriptor:
        return Descriptor(OCI_INDEX, self.digest, len(self.manifest_bytes),
                          tuple(sorted((annotations or {}).items())))


@dataclass
class ImageConfig:
    """The parts of an image config slimgo sets; everything else is inherited from the base."""

    platform: dict[str, str]
    created: str
    user: str | None = None
    env: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    workdir: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: list[str] = field(default_factory=list)


def make_image(base_config: dict[str, Any], layers: list[Layer], cfg: ImageConfig,
               history: list[dict[str, Any]], annotations: dict[str, str] | None = None) -> Image:
    """Assemble config and manifest for `layers` (base layers first) on top of a base config."""
    base = ConfigView(base_config)
    inner = dict(base.runtime)
    env = _merge_env(inner.get("Env") or [], cfg.env)
    if env:
        inner["Env"] = env
    if cfg.user is not None:
        inner["User"] = cfg.user
    if cfg.workdir is not None:
        inner["WorkingDir"] = cfg.workdir
    if cfg.entrypoint is not None:
        inner["Entrypoint"] = cfg.entrypoint
        inner.pop("Cmd", None)
    if cfg.cmd is not None:
        inner["Cmd"] = cfg.cmd
    if cfg.labels:
        inner["Labels"] = {**(inner.get("Labels") or {}), **cfg.labels}
    for port in cfg.exposed_ports:
        inner.setdefault("ExposedPorts", {})[port] = {}
    config: dict[str, Any] = {
        **cfg.platform,
        "created": cfg.created,
        "config": inner,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": base.history + history,
    }
    config_bytes = canonical_json(config)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": Descriptor(OCI_CONFIG, sha256(config_bytes), len(config_bytes)).to_json(),
        "layers": [layer.descriptor.to_json() for layer in layers],
    }
    if annotations:
        manifest["annotations"] = annotations
    return Image(config_bytes, canonical_json(manifest), tuple(layers))


def make_index(images: list[Image], annotations: dict[str, str] | None = None) -> Index:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [img.descriptor(with_platform=True).to_json() for img in images],
    }
    if annotations:
        doc["annotations"] = annotations
    return Index(canonical_json(doc), tuple(images))


def _merge_env(base: list[str], extra: list[str]) -> list[str]:
    """Later KEY=VALUE entries replace earlier ones with the same KEY, keeping first positions."""
    merged: dict[str, str] = {}
    for item in [*base, *extra]:
        key = item.split("=", 1)[0]
        merged[key] = item
    return list(merged.values())
