"""BuildKit's own Dockerfile parser as a test oracle: where slimgo and BuildKit disagree, BuildKit wins.

A tiny Go program (tests/support/buildkit_oracle) links github.com/moby/buildkit's parser and instruction
parser at a pinned version (go.mod/go.sum), fetched through the Go module proxy and built once per test
session; Go's build cache makes later sessions quick.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

ORACLE_SRC = Path(__file__).resolve().parent / "buildkit_oracle"


@dataclass
class Verdict:
    accepted: bool
    error: str


def build_oracle(go: str, out_dir: Path) -> Path:
    exe = out_dir / "buildkit-oracle"
    subprocess.run([go, "build", "-mod=mod", "-o", str(exe), "."], cwd=ORACLE_SRC, check=True,
                   capture_output=True, timeout=600, env=_env())
    return exe


def buildkit_module_dir(go: str) -> Path:
    """Where the pinned buildkit module is unpacked (its parser test files are more cases)."""
    out = subprocess.run([go, "list", "-mod=mod", "-m", "-json", "github.com/moby/buildkit"], cwd=ORACLE_SRC,
                         check=True, capture_output=True, text=True, timeout=300, env=_env())
    return Path(json.loads(out.stdout)["Dir"])


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}


def judge(exe: Path, files: list[Path]) -> dict[Path, Verdict]:
    out = subprocess.run([str(exe), *map(str, files)], check=True, capture_output=True, text=True, timeout=120)
    verdicts: dict[Path, Verdict] = {}
    for line in out.stdout.splitlines():
        status, path, *err = line.split("\t")
        verdicts[Path(path)] = Verdict(status == "OK", err[0] if err else "")
    return verdicts
