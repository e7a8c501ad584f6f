"""Which bases a build starts from, resolved before compiling: a missing platform or a refused registry
fails in a second, not after a long `go build`. Embedded bases are made later, per binary, because the
static base depends on what each binary needs (base_for, called while assembling)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..base.model import Base
from ..base.resolve import ALL_PLATFORMS, resolve_embedded
from ..base.selection import static_spec_for
from ..oci.cache import LayerCache
from ..oci.mediatypes import OCI_LAYER_TAR
from ..platform import Platform
from ..registries import RegistryPool
from .inspect import BinaryFacts
from .plan import BuildPlan

Progress = Callable[[str], None]


UNCOMPRESSED_LAYERS = (OCI_LAYER_TAR, "application/vnd.docker.image.rootfs.diff.tar")


@dataclass(frozen=True)
class BaseChoice:
    platforms: tuple[Platform, ...]  # what gets compiled, in index order
    remote: tuple[Base, ...] | None  # one per platform; None for an embedded base
    notes: tuple[str, ...] = ()


def choose_bases(plan: BuildPlan, pulls: RegistryPool, cache: LayerCache, progress: Progress) -> BaseChoice:
    if plan.embedded_base:
        # `--platform all` on an embedded base: it is data only, so every platform Go targets on Linux.
        return BaseChoice(plan.platforms or tuple(Platform.parse(p) for p in ALL_PLATFORMS), None)
    progress(f"resolving base {plan.base_name}")
    from ..base import remote

    bases = remote.resolve(plan.base_name, None if plan.all_platforms else list(plan.platforms), cache, pulls)
    platforms = plan.platforms or tuple(Platform.parse(b.platform.key) for b in bases)
    return BaseChoice(platforms, tuple(bases), _uncompressed_note(plan.base_name, bases))


def _uncompressed_note(name: str, bases: list[Base]) -> tuple[str, ...]:
    raw = {layer.digest: layer.size for b in bases for layer in b.layers
           if layer.descriptor.media_type in UNCOMPRESSED_LAYERS}
    if not raw:
        return ()
    from ..report.units import human_bytes

    return (f"base {name}: {len(raw)} layer(s), {human_bytes(sum(raw.values()))}, are stored uncompressed, as "
            "the engine exported them; they are reused byte-for-byte, so pulls carry them uncompressed (a "
            "registry or oci: base keeps its compressed blobs)",)


def base_for(plan: BuildPlan, facts: BinaryFacts, blob_dir: Path, cache: LayerCache | None) -> tuple[Base, list[str]]:
    """An embedded base for one binary: `static` keeps only what the program can use (its needs)."""
    if plan.base_name != "static":
        return resolve_embedded(plan.base_name, facts.binary.platform.oci(), blob_dir, cache, plan.compression,
                                plan.base_level), []
    spec, notes = static_spec_for(facts.needs, facts.binary.name)
    return resolve_embedded("static", facts.binary.platform.oci(), blob_dir, cache, plan.compression, plan.base_level,
                            spec, tuple(notes)), notes
