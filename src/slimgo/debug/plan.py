"""`--debug` for one build: the flags, Delve as the plan's extra layer, the image config, and how a client
attaches.

`DebugPlan` is an `ExtraLayer` (see stages/plan.py): assemble asks it for Delve's layer per platform (cached,
so a cached build never reads or compiles Delve) and lets it set the entrypoint, labels and port.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..binary import buildinfo
from ..binary import elf as elf_mod
from ..errors import BadInput
from ..gobuild.build import BuiltBinary
from ..gobuild.target import Target
from ..gobuild.toolchain import Toolchain
from ..oci.cache import LayerCache
from ..oci.layer import Entry
from ..oci.model import ImageConfig
from ..platform import Platform
from ..strategy import GoFlags
from . import delve
from .image import DLV_PATH, PORT, DebugSettings, debug_flags, entrypoint, labels
from .launch import DLV_INIT, ClientConfig, path_rules


@dataclass
class DebugPlan:
    settings: DebugSettings
    toolchain: Toolchain
    cache: LayerCache | None  # where Delve binaries are kept; None with --no-cache
    comment: str
    created_by: str

    @classmethod
    def create(cls, enabled: bool, continue_: bool, delve_version: str | None, toolchain: Toolchain,
               platforms: tuple[Platform, ...], cache: LayerCache | None) -> DebugPlan | None:
        """Checked before anything is compiled: a bad version or an unsupported platform fails at once."""
        if not enabled:
            return None
        if not platforms:
            raise BadInput("--debug with --platform all: name the platforms (Delve runs on linux/"
                           f"{', linux/'.join(delve.SUPPORTED_ARCHES)})")
        version = delve_version or delve.VERSION
        delve.check(version, list(platforms))
        return cls(DebugSettings(version, continue_), toolchain, cache, f"delve {version}",
                   f"slimgo build --debug: go install {delve.PACKAGE}@{version}")

    def flags(self, flags: GoFlags, user_gcflags: str | None) -> GoFlags:
        return debug_flags(flags, user_gcflags)

    # ExtraLayer
    def cache_key(self, platform: Platform) -> str:
        return delve.cache_key(self.settings.delve_version, platform, self.toolchain)

    def entries(self, platform: Platform, work: Path) -> list[Entry]:
        dlv = delve.delve_binary(self.toolchain, self.settings.delve_version, platform, self.cache, work / "delve")
        return [Entry(DLV_PATH, "file", 0o755, source=dlv)]

    def configure(self, config: ImageConfig, binary: BuiltBinary, app_dir: str) -> None:
        config.entrypoint = entrypoint(binary.name, app_dir, self.settings)
        config.labels.update(labels(self.settings))
        config.exposed_ports = [*config.exposed_ports, f"{PORT}/tcp"]

    def client(self, target: Target, binary: BuiltBinary) -> ClientConfig:
        with elf_mod.MappedFile(binary.path) as mf:
            info = buildinfo.read(elf_mod.parse(mf.view))
        trimpath = binary.flags.trimpath
        gomodcache = self.toolchain.env("GOMODCACHE")["GOMODCACHE"] if trimpath else ""
        rules = path_rules(info, trimpath=trimpath, module_root=target.module_root,
                           goroot=self.toolchain.goroot, gomodcache=gomodcache)
        return ClientConfig(target.name, rules)

    def to_json(self, client: ClientConfig, written: list[Path], image: str) -> dict[str, Any]:
        """What the summary prints and --json carries: how to run the image and attach to it."""
        init = next((str(p) for p in written if p.name == DLV_INIT), DLV_INIT)
        return {"delve_version": self.settings.delve_version, "continue": self.settings.continue_,
                "port": client.port, "docker_run": client.docker_run(image),
                "launch_json": client.launch_json(), "dlv_init": client.dlv_init(),
                "dlv_connect": client.dlv_connect(init), "written": [str(p) for p in written]}
