"""A base image as the assembler sees it: layers to reuse byte-for-byte, a config to inherit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..oci.model import Layer
from ..platform import Platform


@dataclass(frozen=True)
class Base:
    name: str  # recorded as org.opencontainers.image.base.name
    layers: tuple[Layer, ...]
    config: dict[str, Any]
    digest: str = ""  # the base manifest's digest, recorded as ...base.digest
    files: frozenset[str] | None = field(default_factory=frozenset)  # paths it contains; None: list on demand
    notes: tuple[str, ...] = ()  # what was left out and why, for stderr

    @property
    def platform(self) -> Platform:
        return Platform.from_oci(self.config)


def base_files(base: Base) -> frozenset[str]:
    """The paths a base contains: given, or listed from its layers (whiteouts applied) when first needed."""
    if base.files is not None:
        return base.files
    from ..sources.files import paths, source_layers

    return paths(source_layers(base.layers))
