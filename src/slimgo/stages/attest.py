"""attest(plan, assembled) → attachments: per platform image, its SBOM and provenance as OCI 1.1 referrers.

Runs after assemble and before publish: every document names the image's manifest digest, which exists
only once the image is assembled, and the image never changes because of them (they point at it).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..epoch import rfc3339
from ..supplychain import cyclonedx, provenance, spdx
from ..supplychain.attach import Attachment, attach
from ..supplychain.inventory import Inventory, inventory
from .assemble import PlatformImage
from .inspect import BinaryFacts
from .plan import BuildPlan

SBOM_FORMATS = ("spdx", "cyclonedx", "none")


def inventories(plan: BuildPlan, images: Sequence[PlatformImage], facts: Sequence[BinaryFacts]) -> list[Inventory]:
    name = plan.tags[0].name
    return [inventory(name, p.image.digest, str(p.platform), p.binary.name, f.buildinfo, plan.target.module_path
                      or plan.target.package, plan.toolchain.version, p.base) for p, f in zip(images, facts)]


def attest(plan: BuildPlan, images: Sequence[PlatformImage], facts: Sequence[BinaryFacts]) -> tuple[Attachment, ...]:
    if plan.sbom == "none" and not plan.provenance:
        return ()
    created = rfc3339(plan.epoch)
    stamped = created if plan.epoch else None  # optional timestamps only when SOURCE_DATE_EPOCH gives one
    out: list[Attachment] = []
    for p, inv in zip(images, inventories(plan, images, facts)):
        subject = p.image.descriptor()
        if plan.sbom == "spdx":
            out.append(attach(subject, spdx.MEDIA_TYPE, spdx.render(inv, created)))
        elif plan.sbom == "cyclonedx":
            out.append(attach(subject, cyclonedx.MEDIA_TYPE, cyclonedx.render(inv, stamped)))
        if plan.provenance:
            target = f"{plan.target.package}@{plan.target.version}" if plan.target.remote else plan.target.package
            call = provenance.Invocation(target, p.binary.flags.command_line(), plan.base_name, str(p.platform))
            out.append(attach(subject, provenance.MEDIA_TYPE, provenance.render(inv, call, stamped)))
    return tuple(out)
