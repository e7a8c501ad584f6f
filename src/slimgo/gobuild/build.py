"""Compile one main package for one platform."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput, CompileError, ToolMissing
from ..platform import Platform
from ..strategy import GoFlags
from .target import Target
from .toolchain import Toolchain


@dataclass(frozen=True)
class BuiltBinary:
    path: Path
    name: str
    platform: Platform
    flags: GoFlags
    seconds: float
    size: int  # measured when built: the file lives in a work directory that is removed afterwards


def _classify_failure(stderr: str, target: Target) -> Exception:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else "go build failed"
    # The compiler prefixes its report with "# package"; anything else is about resolving the target.
    if any(ln.startswith("# ") for ln in lines) or any(".go:" in ln for ln in lines):
        first = next((ln for ln in lines if ".go:" in ln), last)
        return CompileError(f"compile error in {target.package}: {first.strip()}", detail=stderr.strip())
    return BadInput(f"cannot build {target.spec}: {last.strip()}")


def compile_binary(toolchain: Toolchain, target: Target, flags: GoFlags, platform: Platform,
                   out_dir: Path) -> BuiltBinary:
    """Build into out_dir/<platform>/<name>. Remote targets go through `go install pkg@version`, so the
    binary records the module version exactly as `go install` would."""
    dest_dir = out_dir / str(platform).replace("/", "_")
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / target.name
    env = {**os.environ, **platform.go_env(), **flags.go_env()}
    started = time.perf_counter()
    if target.remote:
        _install_remote(toolchain, target, flags, platform, env, dest)
    else:
        cmd = [toolchain.go, "build", *flags.go_args(), "-o", str(dest), "."]
        proc = _run(cmd, target.package_dir, env)
        if proc.returncode != 0:
            raise _classify_failure(proc.stderr, target)
    return BuiltBinary(dest, target.name, platform, flags, time.perf_counter() - started, dest.stat().st_size)


def _run(cmd: list[str], cwd: Path | None, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ToolMissing(f"{cmd[0]}: not found") from None


def _install_remote(toolchain: Toolchain, target: Target, flags: GoFlags, platform: Platform,
                    env: dict[str, str], dest: Path) -> None:
    # go install refuses GOBIN for cross builds, so point GOPATH at a scratch dir (keeping the real module
    # cache) and pick the binary up from bin/ or bin/GOOS_GOARCH/.
    facts = toolchain.env("GOMODCACHE", "GOPATH")
    with tempfile.TemporaryDirectory(prefix="slimgo-gopath-") as gopath:
        env = {**env, "GOPATH": gopath, "GOMODCACHE": facts["GOMODCACHE"]}
        env.pop("GOBIN", None)
        cmd = [toolchain.go, "install", *flags.go_args(), f"{target.package}@{target.version}"]
        proc = _run(cmd, Path(gopath), env)
        if proc.returncode != 0:
            raise _classify_failure(proc.stderr, target)
        candidates = [Path(gopath, "bin", target.name),
                      Path(gopath, "bin", f"{platform.os}_{platform.arch}", target.name)]
        built = next((c for c in candidates if c.is_file()), None)
        if built is None:
            raise BadInput(f"{target.spec}: go install produced no binary (is it a main package?)")
        shutil.move(str(built), dest)
