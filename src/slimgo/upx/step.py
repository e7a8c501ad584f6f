"""The UPX step between compiling and writing the image: refuse early, pack, verify, measure the cost.

Order matters: everything that can be decided from the flags is decided before compiling; after packing,
nothing touches the file (no strip, no build-id rewrite), and its digest is taken so the image step can
prove that the bytes it writes are the bytes that were verified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInput, CheckFailed
from ..platform import Platform
from ..strategy import GoFlags
from . import policy, startup, tool
from .tool import Upx, UpxFailed


@dataclass
class Packed:
    platform: Platform
    path: Path
    unpacked_bytes: int
    packed_bytes: int
    sha256: str
    cost: startup.StartCost

    def unchanged(self) -> bool:
        return _sha256(self.path) == self.sha256

    def to_json(self) -> dict[str, Any]:
        return {"platform": str(self.platform), "binary_bytes_unpacked": self.unpacked_bytes,
                "binary_bytes_packed": self.packed_bytes,
                "binary_reduction_pct": round(100 * (1 - self.packed_bytes / self.unpacked_bytes), 1),
                "sha256": self.sha256, "verified": {"upx_test": True, "elf": True, "starts": True},
                **self.cost.to_json()}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def preflight(platforms: Sequence[Platform], flags: GoFlags, environ: Mapping[str, str]) -> None:
    """Every reason not to pack that is known before compiling, as one BadInput line."""
    for p in platforms:
        why = policy.refusal(p, flags, environ)
        if why:
            raise BadInput(why)
        if startup.launcher(p) is None:
            raise BadInput(f"--upx: cannot check that a packed {p} binary starts on this machine "
                           f"(no qemu-user for {p.arch}; install qemu-user-static)")


def pack_and_verify(upx: Upx, src: Path, platform: Platform, args: Sequence[str], runs: int = 5) -> Packed:
    """Pack src (left untouched) into a sibling directory and prove the result: `upx -t`, a static ELF
    for the platform, and a start that reaches Go's runtime, timed against the unpacked binary."""
    dest = src.parent / "upx" / src.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    tool.pack(upx, src, dest, args)
    problems = policy.check_packed(dest, platform)
    if problems:
        raise UpxFailed(f"packed {src.name} ({platform}) is not usable on a static base: {'; '.join(problems)}")
    why = tool.test(upx, dest)
    if why:
        raise UpxFailed(f"packed {src.name} ({platform}): {why}")
    launch = startup.launcher(platform)
    if launch is None:  # preflight refuses this; kept so a direct caller cannot skip the start check
        raise BadInput(f"cannot run {platform} binaries on this machine to check the packed one")
    cost, why = startup.measure_cost(src, dest, launch, runs)
    if cost is None:
        error = UpxFailed if "packed binary" in why else CheckFailed
        raise error(f"{src.name} ({platform}): {why}")
    return Packed(platform, dest, src.stat().st_size, dest.stat().st_size, _sha256(dest), cost)
