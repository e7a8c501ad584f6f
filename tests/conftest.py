"""Session fixtures for the real parts (Go, Docker, skopeo, the module proxy). Helpers live in tests/support."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.parts import (
    CREATED_IMAGES_ENV,
    DOCKER,
    OCI_SCHEMAS,
    created_images,
    remove_images,
    require,
    require_upx,
    upx_path,
)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """`-m "not integration"` does not even import the integration tier (its modules need the test extras)."""
    if collection_path.name == "integration" and collection_path.parent.name == "tests":
        if " ".join(str(config.getoption("markexpr") or "").split()) == "not integration":
            return True
    return None


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        fd, path = tempfile.mkstemp(prefix="slimgo-test-images-", suffix=".txt")
        os.close(fd)
        os.environ[CREATED_IMAGES_ENV] = path


def pytest_unconfigure(config: pytest.Config) -> None:
    """Every image a test created (unique tags, builder images) leaves the engine once all workers are done."""
    if not hasattr(config, "workerinput"):
        remove_images(created_images())
        Path(os.environ.pop(CREATED_IMAGES_ENV, "")).unlink(missing_ok=True)


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


def go_tool(name: str, install: str) -> str:
    """A Go program scripts/test.sh installs with `go install` (PATH, else $(go env GOPATH)/bin)."""
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("go") else ""
    path = shutil.which(name) or next((str(p) for p in [Path(gopath) / "bin" / name] if gopath and p.is_file()), None)
    require(path is not None, f"{name} is not installed (go install {install})")
    return str(path)


@pytest.fixture(scope="session")
def crane() -> str:
    """go-containerregistry's crane, an independent OCI client."""
    return go_tool("crane", "github.com/google/go-containerregistry/cmd/crane@v0.22.1")


@pytest.fixture(scope="session")
def cosign() -> str:
    """sigstore's cosign: the verifier of slimgo's signatures and attestations."""
    return go_tool("cosign", "github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5")


@pytest.fixture(scope="session")
def syft() -> str:
    """anchore's syft: an independent SBOM scanner to compare slimgo's SBOM with."""
    return go_tool("syft", "github.com/anchore/syft/cmd/syft@v1.57.1")


@pytest.fixture(scope="session")
def oci_schemas() -> Path:
    """The OCI image-spec schemas, vendored under tests/data (no folder outside the repository is read)."""
    return OCI_SCHEMAS


@pytest.fixture(scope="session")
def proxy_has() -> Callable[[str], tuple[bool, str]]:
    """Ask the module proxy whether it serves a module version, so refusals skip with the proxy's words."""

    def check(module_at_version: str) -> tuple[bool, str]:
        proc = subprocess.run(["go", "mod", "download", "-json", module_at_version], capture_output=True,
                              text=True, cwd="/")
        if proc.returncode == 0:
            return True, ""
        try:
            return False, str(json.loads(proc.stdout).get("Error", proc.stderr.strip()))
        except ValueError:
            return False, proc.stderr.strip()

    return check


@pytest.fixture(scope="session", autouse=True)
def _upx_for_every_slimgo() -> Iterator[None]:
    """Every slimgo the tests start (compare's upx rung included) finds the same UPX, so the UPX paths run
    in CI where UPX is not on PATH. Set for the session only."""
    path = upx_path()
    if path is None or os.environ.get("SLIMGO_UPX"):
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLIMGO_UPX", path)
        yield


@pytest.fixture(scope="session")
def upx() -> str:
    return require_upx(upx_path())
