"""Shared fixtures. Real parts (Go, Docker, skopeo, the OCI schemas) are found here once.

Outside CI a missing part skips its tests with the reason; with SLIMGO_REQUIRE_REAL_PARTS=1 (set by
scripts/test.sh, which installs and starts them) a missing part fails instead, so a skip can never hide
a feature that can run on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HELLO = REPO / "examples" / "hello"
DOCKER = "/usr/bin/docker"
# whoami is the brief's example, but the module proxy here answers 403 for it; go-httpbin is a small
# real HTTP service no one here wrote and is served.
HTTPBIN = "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0"
WHOAMI = "github.com/traefik/whoami@v1.10.3"


def require(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("SLIMGO_REQUIRE_REAL_PARTS") == "1":
        pytest.fail(f"required real part missing: {reason}")
    pytest.skip(reason)


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


def slimgo(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
           timeout: float = 600) -> Run:
    """Run the real CLI in a subprocess, as a user would."""
    proc = subprocess.run([sys.executable, "-m", "slimgo", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def go_bin() -> str:
    go = shutil.which("go")
    require(go is not None, "the Go toolchain is not installed")
    return str(go)


@pytest.fixture(scope="session")
def docker() -> str:
    ok = Path(DOCKER).exists() and subprocess.run([DOCKER, "info"], capture_output=True).returncode == 0
    require(ok, "no Docker engine answers at /var/run/docker.sock (scripts/test.sh starts one)")
    return DOCKER


@pytest.fixture(scope="session")
def skopeo() -> str:
    path = shutil.which("skopeo")
    require(path is not None, "skopeo is not installed (apt-get install skopeo)")
    return str(path)


@pytest.fixture(scope="session")
def oci_schemas() -> Path:
    root = Path(os.environ.get("SLIMGO_OCI_SCHEMAS", REPO.parent / "shared" / "oci-schemas"))
    require((root / "image-manifest-schema.json").exists(), f"OCI JSON schemas not found at {root}")
    return root


@pytest.fixture(scope="session")
def proxy_has():
    """Ask the module proxy whether it serves a module version, so refusals skip with the proxy's words."""

    def check(module_at_version: str) -> tuple[bool, str]:
        proc = subprocess.run(["go", "mod", "download", "-json", module_at_version], capture_output=True,
                              text=True, cwd="/")
        if proc.returncode == 0:
            return True, ""
        try:
            return False, json.loads(proc.stdout).get("Error", proc.stderr.strip())
        except ValueError:
            return False, proc.stderr.strip()

    return check


def unique_tag(prefix: str) -> str:
    return f"slimgo-test/{prefix}:{uuid.uuid4().hex[:10]}"


def docker_run(docker: str, image: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([docker, "run", "--rm", image, *args], capture_output=True, text=True, timeout=timeout)
