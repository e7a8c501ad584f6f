"""`slimgo build --upx`: the binary transform between compiling and assembling the image.

`prepare` runs in the build's plan, before compiling (every refusal, the UPX lookup, the arguments). The
stage is then one of the plan's `post_compile` transforms: called per binary, it packs, verifies and
measures. The unpacked binaries are kept, because a packed file's build info and function table are
compressed: labels and the static base's parts are read from the unpacked file (`readable`). After the
layers are written, `check_unchanged` proves they hold the bytes that were verified.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import BadInput, CheckFailed
from ..gobuild.build import BuiltBinary
from ..platform import Platform
from ..strategy import GoFlags
from . import policy, tool
from .step import Packed, pack_and_verify, preflight
from .tool import Upx

LABEL = "dev.slimgo.upx"


@dataclass
class UpxStage:
    upx: Upx
    args: tuple[str, ...]
    compression: str
    level: int
    mtime: int
    runs: int = 5
    name: str = "upx"
    packed: dict[Platform, Packed] = field(default_factory=dict)
    unpacked: dict[Platform, BuiltBinary] = field(default_factory=dict)
    layer_bytes: dict[Platform, tuple[int, int]] = field(default_factory=dict)  # (unpacked, packed) compressed

    @classmethod
    def prepare(cls, platforms: Sequence[Platform], flags: GoFlags, environ: Mapping[str, str],
                upx_path: str | None, args: str | None, compression: str, level: int, mtime: int) -> UpxStage:
        """Everything that can fail before compiling does so here, as BadInput (exit 2)."""
        parsed = tool.parse_args(args)
        preflight(platforms, flags, environ)
        return cls(tool.require(upx_path, environ), parsed, compression, level, mtime)

    @property
    def label(self) -> str:
        return f"{self.upx.version} {' '.join(self.args)}"

    def __call__(self, binary: BuiltBinary) -> BuiltBinary:
        """Pack and verify; measure the binary's layer packed and unpacked, as the image carries it, so the
        gain reported is the pull-size gain rather than the file-size one."""
        why = policy.refusal(binary.platform, binary.flags, {})  # `--platform all`: known only now
        if why:
            raise BadInput(why)
        p = pack_and_verify(self.upx, binary.path, binary.platform, self.args, self.runs)
        packed = replace(binary, path=p.path, size=p.packed_bytes)
        self.packed[binary.platform], self.unpacked[binary.platform] = p, binary
        self.layer_bytes[binary.platform] = (self._layer_size(binary), self._layer_size(packed))
        return packed

    def readable(self, binary: BuiltBinary) -> BuiltBinary:
        """The unpacked binary, for reading build info and needs; the binary itself when it was not packed."""
        return self.unpacked.get(binary.platform, binary)

    def check_unchanged(self) -> None:
        for p in self.packed.values():
            if not p.unchanged():
                raise CheckFailed(f"the packed {p.platform} binary changed after it was verified: nothing may "
                                  "modify a file after UPX")

    def to_json(self) -> dict[str, Any]:
        platforms = []
        for platform, p in self.packed.items():
            unpacked_layer, packed_layer = self.layer_bytes[platform]
            platforms.append({**p.to_json(), "layer_bytes_unpacked": unpacked_layer,
                              "layer_bytes_packed": packed_layer, "pull_bytes_saved": unpacked_layer - packed_layer})
        return {"version": self.upx.version, "args": list(self.args), "label": LABEL, "platforms": platforms}

    def _layer_size(self, binary: BuiltBinary) -> int:
        from ..stages.assemble import binary_layer  # the image's own binary layer (stages import the plan)

        with tempfile.TemporaryDirectory(prefix="slimgo-upx-layer-") as tmp:
            return binary_layer(binary, Path(tmp), self.compression, self.level, self.mtime).size
