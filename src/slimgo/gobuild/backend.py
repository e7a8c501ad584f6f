"""The compile backend seam: where `go build` runs. Local (this machine's toolchain) or BuildKit
(`--builder`); the stages after compile see the same `BuiltBinary` either way.

A backend is chosen once, by `plan`, and checked there (a missing client, an unreachable builder, a
target it cannot build), so nothing expensive runs before the choice is known to work.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Protocol

from ..platform import Platform
from ..strategy import GoFlags
from .build import BuiltBinary, GoProcesses, compile_binary
from .outputs import LinkOutputs
from .rerun import Rerun
from .target import Target
from .toolchain import Toolchain

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Compilation:
    binaries: tuple[BuiltBinary, ...]  # one per platform, in the order asked
    notes: tuple[str, ...] = ()


class Compiler(Protocol):
    @property
    def name(self) -> str:
        """"local", or the builder's address."""
        ...

    def check(self, target: Target, flags: GoFlags) -> None:
        """Refuse, before any work, what this backend cannot build the way a local build would."""
        ...

    def compile(self, toolchain: Toolchain, target: Target, flags: GoFlags, platforms: tuple[Platform, ...],
                out_dir: Path, progress: Progress | None, procs: GoProcesses | None = None) -> Compilation:
        """`procs`: the processes it starts are registered there, so the caller can stop them."""
        ...


@dataclass(frozen=True)
class LocalCompiler:
    name: str = "local"
    outputs: LinkOutputs | None = None  # where Go's outputs stay between builds (None: relink every time)
    rerun: Rerun | None = None  # this command line's last `go build`, started by the entry point (gobuild/rerun.py)

    def check(self, target: Target, flags: GoFlags) -> None:
        return None

    def compile(self, toolchain: Toolchain, target: Target, flags: GoFlags, platforms: tuple[Platform, ...],
                out_dir: Path, progress: Progress | None, procs: GoProcesses | None = None) -> Compilation:
        binaries = []
        rerun = self.rerun if len(platforms) == 1 else None  # a recipe is one `go build`: one platform
        if rerun is None and self.rerun is not None:
            self.rerun.close()  # it may hold the lock of a slot one of these builds needs
        for platform in platforms:
            if progress is not None:
                progress(f"compiling {target.package} for {platform}")
            binaries.append(compile_binary(toolchain, target, flags, platform, out_dir, progress, procs,
                                           self.outputs, rerun))
        return Compilation(tuple(binaries))

    def without_rerun(self) -> LocalCompiler:
        """For a second compile beside the plan's (the plain reference build): the recipe is the plan's."""
        return replace(self, rerun=None)


LOCAL = LocalCompiler()


def compiler_for(builder: str | None, builder_image: str | None, outputs: LinkOutputs | None = None,
                 rerun: Rerun | None = None) -> Compiler:
    """`--builder ADDRESS` → the BuildKit backend (its client found and the daemon asked, here); else local,
    keeping Go's outputs in `outputs` when given, and adopting `rerun`'s `go build` when it is the plan's."""
    if builder is None:
        if builder_image is not None:
            from ..errors import BadInput

            raise BadInput("--builder-image names the image a BuildKit builder compiles in: it needs --builder")
        return LocalCompiler(outputs=outputs, rerun=rerun) if outputs is not None else LOCAL
    from ..buildkit.compiler import BuildKitCompiler

    return BuildKitCompiler.connect(builder, builder_image)
