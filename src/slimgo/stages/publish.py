"""publish(artifact, sinks): the image or index to every destination the plan names, and the refs to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fsutil import check_writable, write_bytes
from ..oci.model import Image, Index
from ..oci.reference import Reference
from ..registries import RegistryPool
from ..sinks.content import Published
from ..sinks.sink import MultiSink, Sink
from ..supplychain.attach import Attachment
from .plan import Outputs

if TYPE_CHECKING:  # imported only by the builds that sign (--sign-key)
    from ..supplychain.sign import Signing

Progress = Callable[[str], None]


def sinks_for(outputs: Outputs, host_arch: str, pushes: RegistryPool, written: Path | None = None) -> MultiSink:
    """Each sink's module is imported only when the plan writes to it (the registry client and the signing
    code behind a push are ~5 ms of every build that does not push). `written`: where the tarball's record
    is kept, so an unchanged one is not written again (sinks/written.py); None with --no-cache."""
    sinks: list[Sink] = []
    if outputs.push:
        from ..sinks.registry import RegistrySink

        sinks.append(RegistrySink(outputs.push, pushes))
    if outputs.load:
        from ..sinks.daemon import DaemonSink

        sinks.append(DaemonSink(host_arch))
    if outputs.oci_layout is not None:
        from ..sinks.layout import LayoutSink

        sinks.append(LayoutSink(outputs.oci_layout))
    if outputs.tarball is not None:
        from ..sinks.archive import ArchiveSink
        from ..sinks.written import WrittenFiles

        sinks.append(ArchiveSink(outputs.tarball, host_arch, create_parent=outputs.default_tarball,
                                 written=WrittenFiles(written) if written is not None else None))
    return MultiSink(sinks)


def check_outputs(outputs: Outputs, sinks: MultiSink, registries: bool | None = None) -> None:
    """registries=False checks the paths and the engine only (a millisecond), True the registries only (round
    trips: pipeline.build runs those beside the compile); None checks everything."""
    if registries is not True:
        if outputs.image_refs is not None:
            check_writable(outputs.image_refs)
        if outputs.debug_config is not None:
            check_writable(outputs.debug_config, directory=True)
    if registries is None:
        sinks.check()
    else:
        MultiSink([s for s in sinks.sinks if s.registry == registries]).check()


@dataclass(frozen=True)
class Publication:
    published: Published
    outputs: dict[str, str]
    image_refs: list[str]  # NAME@DIGEST: what was pushed, else each tag pinned to the digest
    push_stats: dict[str, Any] | None
    seconds: dict[str, float]


def publish(artifact: Image | Index, tags: tuple[Reference, ...], sinks: MultiSink, outputs: Outputs,
            progress: Progress, attachments: tuple[Attachment, ...] = (), signing: Signing | None = None) -> Publication:
    pub = Published(artifact, tags, attachments, signing)
    r = sinks.publish(pub, progress)
    refs = list(r.pushed) if outputs.push else [ref.with_digest(pub.digest) for ref in tags]
    written = dict(r.outputs)
    if outputs.image_refs is not None:
        write_bytes(outputs.image_refs, ("\n".join(refs) + "\n").encode())
        written["image_refs"] = str(outputs.image_refs)
    return Publication(pub, written, refs, r.push_stats, r.seconds)
