"""Typed, read-only views of an image config and a manifest as they arrive from anywhere.

Images are read from layouts, archives, engines and registries that slimgo did not write: every key may be
missing or null. The views say once how each field is read (and what its absence means), instead of
`(doc.get("config") or {}).get("Env") or []` at every use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..platform import Platform


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


@dataclass(frozen=True)
class ConfigView:
    doc: Mapping[str, Any]

    @property
    def platform(self) -> Platform:
        return Platform.from_oci(self.doc)

    @property
    def runtime(self) -> Mapping[str, Any]:
        """The `config` object: what a container runs with (Env, User, Entrypoint…)."""
        inner = self.doc.get("config")
        return inner if isinstance(inner, Mapping) else {}

    @property
    def env(self) -> list[str]:
        return _strings(self.runtime.get("Env"))

    @property
    def user(self) -> str:
        return str(self.runtime.get("User") or "")

    @property
    def workdir(self) -> str:
        return str(self.runtime.get("WorkingDir") or "")

    @property
    def entrypoint(self) -> list[str]:
        return _strings(self.runtime.get("Entrypoint"))

    @property
    def cmd(self) -> list[str]:
        return _strings(self.runtime.get("Cmd"))

    @property
    def labels(self) -> dict[str, str]:
        labels = self.runtime.get("Labels")
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}

    @property
    def diff_ids(self) -> list[str]:
        rootfs = self.doc.get("rootfs")
        return _strings(rootfs.get("diff_ids")) if isinstance(rootfs, Mapping) else []

    @property
    def history(self) -> list[dict[str, Any]]:
        history = self.doc.get("history")
        return [dict(h) for h in history if isinstance(h, Mapping)] if isinstance(history, list) else []


@dataclass(frozen=True)
class ManifestView:
    doc: Mapping[str, Any]

    @property
    def media_type(self) -> str:
        return str(self.doc.get("mediaType") or "")

    @property
    def config(self) -> Mapping[str, Any]:
        """The config's descriptor."""
        desc = self.doc.get("config")
        return desc if isinstance(desc, Mapping) else {}

    @property
    def layers(self) -> list[Mapping[str, Any]]:
        layers = self.doc.get("layers")
        return [d for d in layers if isinstance(d, Mapping)] if isinstance(layers, list) else []
