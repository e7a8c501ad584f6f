"""The BuildKit compile backend: the local `go build`, run by a BuildKit daemon, binary sent back.

What makes the binary the same file as a local build: the same Go release (the default builder image is
`golang:` + the release the local build would use), the same arguments and Go environment
(`GOFLAGS`, `GOEXPERIMENT`, the architecture level, proxy settings: read with `go env` exactly as the
local build would see them), `-trimpath` hiding where the source sits, and the same VCS stamping: `.git` is
sent only when a local build would stamp (a git work tree, git installed, `-buildvcs` not false), with
the whole work tree as the context so `git status` inside sees what it sees here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from ..binary import buildinfo, elf
from ..dockerfile.project import module_facts
from ..errors import BadInput, BinaryFormatError
from ..gobuild.backend import Compilation, Progress
from ..gobuild.build import BuiltBinary, GoProcesses, classify_failure
from ..gobuild.target import Target
from ..gobuild.toolchain import Toolchain
from ..platform import Platform
from ..strategy import GoFlags
from . import address as address_mod
from .client import Buildctl, failure
from .dockerfile import CompileSpec, ignore_file, render

# Go variables that change the bytes `go build` writes, or where it fetches modules from; forwarded with
# the values the local build would use (`go env`, which also reads the user's go env file).
FORWARDED = ("GOFLAGS", "GOEXPERIMENT", "GOFIPS140", "GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB",
             "GOSUMDB", "GOINSECURE", "GOVCS")
# The one architecture-level variable Go records for each GOARCH.
ARCH_LEVEL = {"amd64": "GOAMD64", "arm64": "GOARM64", "arm": "GOARM", "386": "GO386", "ppc64": "GOPPC64",
              "ppc64le": "GOPPC64", "riscv64": "GORISCV64", "mips": "GOMIPS", "mipsle": "GOMIPS",
              "mips64": "GOMIPS64", "mips64le": "GOMIPS64", "wasm": "GOWASM"}
# git refuses a repository owned by another user; the bind-mounted source keeps the client's owner.
_GIT_SAFE = (("GIT_CONFIG_COUNT", "1"), ("GIT_CONFIG_KEY_0", "safe.directory"), ("GIT_CONFIG_VALUE_0", "*"))


@dataclass(frozen=True)
class BuildKitCompiler:
    name: str
    client: Buildctl
    builder_image: str | None  # None: golang:<the local build's Go release>

    @classmethod
    def connect(cls, builder: str, builder_image: str | None) -> BuildKitCompiler:
        address = address_mod.parse(builder)
        if builder_image is not None and not builder_image.strip():
            raise BadInput("--builder-image: empty image reference")
        client = Buildctl.find(address)
        client.workers()  # the builder answers (exit 3 if not) before anything else runs
        return cls(address.given, client, builder_image)

    def check(self, target: Target, flags: GoFlags) -> None:
        if target.remote:
            raise BadInput(f"--builder builds local main packages; {target.spec} is a module@version target "
                           "(build it locally, or check the module out and build the directory)")
        if flags.cgo:
            raise BadInput("--builder builds with CGO_ENABLED=0: a cgo binary links the builder image's C "
                           "library, not this machine's; build cgo programs locally")

    def compile(self, toolchain: Toolchain, target: Target, flags: GoFlags, platforms: tuple[Platform, ...],
                out_dir: Path, progress: Progress | None, procs: GoProcesses | None = None) -> Compilation:
        package_dir, module_root = target.package_dir, target.module_root
        assert package_dir is not None and module_root is not None  # check() refused remote targets
        if not platforms:
            return Compilation(())
        facts = module_facts(package_dir, module_root, target.name, toolchain, with_cgo=False)
        base_env = {**platforms[0].go_env(), **flags.go_env()}
        go_version = toolchain.env("GOVERSION", cwd=package_dir, extra=base_env)["GOVERSION"]
        image = self.builder_image or f"golang:{go_version.removeprefix('go')}"
        vcs_root, vcs_note = vcs_root_of(module_root, toolchain, package_dir, base_env)
        context = Path(os.path.commonpath([facts.root, vcs_root])) if vcs_root else facts.root
        workdir = package_dir.resolve().relative_to(context.resolve()).as_posix()
        user_ignore = context / ".dockerignore"
        patterns = user_ignore.read_text(encoding="utf-8", errors="replace") if user_ignore.is_file() else ""

        def one(platform: Platform) -> BuiltBinary:
            key = str(platform).replace("/", "_")
            env = {**platform.go_env(), **flags.go_env()}
            forwarded = [(k, v) for k, v in go_env_for(toolchain, package_dir, env, platform).items()
                         if v and k not in env]
            spec = CompileSpec(image, workdir, target.name,
                               (*sorted(env.items()), *forwarded, ("GOTOOLCHAIN", "local"),
                                *(_GIT_SAFE if vcs_root else ())),
                               tuple(flags.go_args()))
            df_dir = out_dir / f"dockerfile-{key}"
            df_dir.mkdir(parents=True, exist_ok=True)
            (df_dir / "Dockerfile").write_text(render(spec), encoding="utf-8")
            (df_dir / "Dockerfile.dockerignore").write_text(ignore_file(patterns, vcs_root is not None),
                                                            encoding="utf-8")
            dest = out_dir / key
            if progress is not None:
                progress(f"compiling {target.package} for {platform} on {self.name} (in {image})")
            started = time.perf_counter()
            shown = platform_progress(progress, platform) if len(platforms) > 1 else progress
            log = self.client.build(context, df_dir, dest, image, shown, register)
            if log.returncode != 0:
                if log.failed_in_run():
                    raise classify_failure(log.step_output() or log.error, target, flags.cgo is False)
                raise failure(log, self.client.address, image)
            binary = dest / target.name
            if binary.is_symlink() or not binary.is_file():
                raise BadInput(f"builder {self.name} sent no {target.name} binary for {platform}")
            return BuiltBinary(binary, target.name, platform, flags, time.perf_counter() - started,
                               binary.stat().st_size)

        running = GoProcesses()  # this compile's buildctl processes: one started after stop() dies at once

        def register(proc: subprocess.Popen[str]) -> None:
            running.add(proc)
            if procs is not None:
                procs.add(proc)  # a registry check failing beside the compile stops buildctl too

        try:
            if len(platforms) == 1:
                binaries: tuple[BuiltBinary, ...] = (one(platforms[0]),)
            else:  # every platform's build sent at once: the daemon schedules them
                with ThreadPoolExecutor(max_workers=min(len(platforms), 4)) as pool:
                    futures = [pool.submit(one, p) for p in platforms]
                    try:
                        # The first failure, whichever platform's: waiting in order would report arm64's
                        # compile error only once amd64's whole build had ended.
                        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                        failed = next((f.exception() for f in futures if f in done and f.exception()), None)
                        if failed is not None:
                            raise failed
                        binaries = tuple(f.result() for f in futures)
                    except BaseException:  # one failed, or Ctrl-C/SIGTERM: stop the others' builds too
                        for f in futures:
                            f.cancel()
                        running.stop()
                        raise
        finally:
            running.stop()
        notes = [vcs_note] if vcs_note else []
        return Compilation(binaries, (*notes, *_notes(binaries, go_version, image, vcs_root is not None)))


def platform_progress(progress: Progress | None, platform: Platform) -> Progress | None:
    """Several platforms' builds run at once and print the same step titles: each line says whose it is."""
    if progress is None:
        return None
    report = progress

    def tagged(message: str) -> None:
        report(message.replace("BuildKit: ", f"BuildKit {platform}: ", 1))

    return tagged


def go_env_for(toolchain: Toolchain, package_dir: Path, env: dict[str, str], platform: Platform) -> dict[str, str]:
    names = [*FORWARDED, *([ARCH_LEVEL[platform.arch]] if platform.arch in ARCH_LEVEL else []), "GOWORK"]
    values = toolchain.env(*names, cwd=package_dir, extra=env)
    gowork = values.pop("GOWORK", "")
    if gowork == "off":  # a workspace file path means nothing in the builder; only "off" carries over
        values["GOWORK"] = "off"
    return values


def vcs_root_of(module_root: Path, toolchain: Toolchain, package_dir: Path,
                env: dict[str, str]) -> tuple[Path | None, str | None]:
    """The git work tree a local `go build` would stamp vcs.* settings from (None when it would not), and
    a note when the builder cannot stamp the same way."""
    goflags = toolchain.env("GOFLAGS", cwd=package_dir, extra=env)["GOFLAGS"].split()
    if "-buildvcs=false" in goflags:
        return None, None
    git = shutil.which("git")
    if git is None:  # -buildvcs=auto without git: Go stamps nothing
        return None, None
    proc = subprocess.run([git, "-C", str(module_root), "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=False, timeout=60)
    top = proc.stdout.strip()
    if proc.returncode != 0 or not top:
        return None, None
    if not Path(top, ".git").is_dir():  # a linked worktree or submodule: .git names a directory elsewhere
        return None, (f"{top} is a linked git worktree or submodule: its repository is outside the context, so "
                      "the builder stamps no vcs.* build settings and the binary differs from a local build "
                      "(GOFLAGS=-buildvcs=false makes both the same)")
    return Path(top), None


def _notes(binaries: tuple[BuiltBinary, ...], go_version: str, image: str, stamped: bool) -> list[str]:
    """Say where the builder made a different binary than this machine would (another Go, no git)."""
    if not binaries:
        return []
    try:
        with elf.MappedFile(binaries[0].path) as mf:
            info = buildinfo.read(elf.parse(mf.view))
    except BinaryFormatError:
        return []
    if info is None:
        return []
    notes = []
    if info.go_version != go_version:
        notes.append(f"the builder image {image} compiled with {info.go_version}, this machine's build uses "
                     f"{go_version}: the binary differs from a local build")
    if stamped and "vcs.revision" not in info.settings:
        notes.append(f"the builder image {image} has no git, so the binary carries no vcs.* build settings "
                     "(a local build stamps them): use an image with git, or GOFLAGS=-buildvcs=false")
    return notes
