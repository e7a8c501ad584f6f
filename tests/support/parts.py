"""Where the real parts are (the repository, the example program, the Docker CLI, real Go programs) and how a
test asks for one: outside CI a missing part skips with the reason; with SLIMGO_REQUIRE_REAL_PARTS=1 (set by
scripts/test.sh, which installs and starts them) it fails, so a skip never hides a feature that can run here.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "examples" / "hello"
OCI_SCHEMAS = REPO / "tests" / "data" / "oci-schemas"
DOCKER = "/usr/bin/docker"
# whoami is the brief's example, but the module proxy here answers 403 for it; go-httpbin is a small
# real HTTP service no one here wrote and is served.
HTTPBIN = "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0"
WHOAMI = "github.com/traefik/whoami@v1.10.3"
TEST_IMAGE_REPO = "slimgo-test"
# UPX is never bundled: a developer's comes from PATH; CI's from the optional sibling tools folder.
SHARED_UPX = REPO.parent / "shared" / "tools" / "upx" / "upx"


def upx_path() -> str | None:
    """The UPX the tests use: $SLIMGO_UPX, else `upx` on PATH, else the shared one beside the repository."""
    import shutil

    found = os.environ.get("SLIMGO_UPX") or shutil.which("upx")
    if found:
        return found
    return str(SHARED_UPX) if SHARED_UPX.is_file() else None


UPX_MISSING = ("UPX is not installed (apt install upx-ucl, apk add upx or brew install upx) and "
               "../shared/tools/upx/upx is absent")


def require_upx(path: str | None) -> str:
    """UPX is the one real part a fresh clone may lack (no Debian bookworm package): there its tests skip
    with how to get it. In CI (CI=true), where the sibling tools folder provides it, they must run."""
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"required real part missing: {UPX_MISSING}")
    pytest.skip(UPX_MISSING)


def require(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("SLIMGO_REQUIRE_REAL_PARTS") == "1":
        pytest.fail(f"required real part missing: {reason}")
    pytest.skip(reason)


# The test run's list of images to remove at its end: a file shared by the xdist workers (its path is set by
# the controller in conftest before the workers start), so the controller removes them once all are done.
CREATED_IMAGES_ENV = "SLIMGO_TEST_CREATED_IMAGES"


def record_image(tag: str) -> None:
    path = os.environ.get(CREATED_IMAGES_ENV)
    if path:
        with open(path, "a") as fh:
            fh.write(tag + "\n")


def created_images() -> list[str]:
    path = os.environ.get(CREATED_IMAGES_ENV)
    if not path or not Path(path).exists():
        return []
    return sorted(set(Path(path).read_text().split()))


def unique_tag(prefix: str) -> str:
    tag = f"{TEST_IMAGE_REPO}/{prefix}:{uuid.uuid4().hex[:10]}"
    record_image(tag)
    return tag


def remove_images(tags: list[str]) -> None:
    """Remove images by tag (missing ones are fine: not every tag handed out gets loaded)."""
    if tags and Path(DOCKER).exists():
        subprocess.run([DOCKER, "image", "rm", "-f", *tags], capture_output=True, timeout=120)


def docker_run(docker: str, image: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([docker, "run", "--rm", image, *args], capture_output=True, text=True, timeout=timeout)


def http_get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """GET url once something answers (a container's server starting up), or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status, resp.read()
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing answered at {url} within {timeout:.0f} s") from None
            time.sleep(0.3)
