"""Finding and asking the Go toolchain."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput, ToolMissing


@dataclass(frozen=True)
class Toolchain:
    go: str
    version: str
    goos: str
    goarch: str
    goroot: str

    def env(self, *names: str, cwd: Path | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
        """`go env -json NAMES`: one call for all names, since each go invocation costs ~30 ms."""
        out = run_go(self.go, ["env", "-json", *names], cwd=cwd, env=extra)
        return {k: str(v) for k, v in json.loads(out).items()}


def run_go(go: str, args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **(env or {})}
    try:
        proc = subprocess.run([go, *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ToolMissing(f"go toolchain not found at {go}") from None
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise BadInput(f"go {args[0]} failed: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc.stdout


def find_toolchain(go: str | None = None) -> Toolchain:
    """Locate `go` ($SLIMGO_GO, else PATH) and read the facts every build needs."""
    candidate = go or os.environ.get("SLIMGO_GO") or shutil.which("go")
    if not candidate:
        raise ToolMissing("the go toolchain is not installed or not on PATH (set SLIMGO_GO to its path)")
    out = run_go(candidate, ["env", "-json", "GOVERSION", "GOOS", "GOARCH", "GOROOT"])
    facts = json.loads(out)
    return Toolchain(go=candidate, version=facts["GOVERSION"], goos=facts["GOOS"], goarch=facts["GOARCH"],
                     goroot=facts["GOROOT"])
