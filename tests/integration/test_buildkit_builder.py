"""`slimgo build --builder`: the compile runs in a real buildkitd (OCI worker, runc) on a TCP port, in a Go
builder image pulled from a local registry, and gives the same binary and the same image as a local build.

One buildkitd and one builder image (the image push is the heavy part), used by one test: the failure cases
run after the successful builds, on a warm cache (in a second test, on another xdist worker, they would
start a second buildkitd and compile the runtime cold again). The test program has no external modules, so
nothing inside the build needs a network.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.buildkitd import buildkitd, push_goroot_image, tool
from tests.support.cli import slimgo
from tests.support.parts import require, unique_tag
from tests.support.registry import free_port, registry

# Only `os`: a cold BuildKit cache compiles little of the standard library.
PROGRAM = """package main

import "os"

var version = "dev"

func main() {
	os.Stdout.WriteString("tiny " + version + "\\n")
}
"""
LDFLAGS = "-X main.version=1.2"
# The machine may set GOFLAGS=-buildvcs=false; the tests build with Go's default VCS stamping on.
GO_ENV = {"GOFLAGS": "-buildvcs=auto"}


@dataclass(frozen=True)
class Builder:
    address: str
    image: str
    env: dict[str, str]
    unix_address: str


@pytest.fixture
def builder(tmp_path_factory: pytest.TempPathFactory, skopeo: str) -> Iterator[Builder]:
    buildkitd_bin, buildctl_bin = tool("buildkitd"), tool("buildctl")
    require(buildkitd_bin is not None and buildctl_bin is not None,
            "buildkitd/buildctl are not installed (scripts/test.sh builds them from github.com/moby/buildkit)")
    require(Path("/usr/sbin/runc").exists() or bool(tool("runc")), "runc is not installed (apt-get install runc)")
    require(os.geteuid() == 0, "buildkitd's OCI worker runs as root here")
    assert buildkitd_bin is not None and buildctl_bin is not None
    work = tmp_path_factory.mktemp("buildkit")
    with registry(work / "registry") as reg:
        image = push_goroot_image(reg, work, skopeo)
        with buildkitd(work, reg, buildkitd_bin, buildctl_bin) as address:
            yield Builder(address, image, {"SLIMGO_BUILDCTL": buildctl_bin, **GO_ENV},
                          f"unix://{work / 'buildkitd.sock'}")


def _git_repo(root: Path, source: str) -> Path:
    root.mkdir()
    (root / "go.mod").write_text("module example.com/tiny\n\ngo 1.22\n")
    (root / "main.go").write_text(source)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tiny"], check=True, env={**os.environ, "GIT_COMMITTER_DATE":
                   "2024-01-01T00:00:00Z", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z"})
    return root


def _binary_from_layout(layout: Path, doc: dict[str, object], platform: str, name: str) -> bytes:
    """The program's file out of the last layer of the platform's image in an OCI layout."""
    entry = next(p for p in doc["platforms"] if p["platform"] == platform)  # type: ignore[attr-defined]
    blob = layout / "blobs" / "sha256" / entry["layers"][-1]["digest"].split(":", 1)[1]
    with gzip.open(blob) as gz, tarfile.open(fileobj=gz) as tar:
        member = tar.extractfile(f"app/{name}")
        assert member is not None
        return member.read()


def test_builder_gives_the_local_binary_and_image_and_fails_like_local(builder: Builder, tmp_path: Path, docker: str,
                                                                      go_bin: str) -> None:
    repo = _git_repo(tmp_path / "repo", PROGRAM)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    platforms = "linux/amd64,linux/arm64"
    common = [repo, "--ldflags", LDFLAGS, "--platform", platforms, "--json"]

    local = slimgo("build", *common, "--oci-layout", tmp_path / "local", env=GO_ENV)
    assert local.code == 0, local.err
    tag = unique_tag("buildkit-tiny")
    remote = slimgo("build", *common, "--oci-layout", tmp_path / "remote", "--tarball", tmp_path / "tiny.tar",
                    "-t", tag, "--builder", builder.address, "--builder-image", builder.image, env=builder.env)
    assert remote.code == 0, remote.err
    # Again, now through the daemon's unix socket: BuildKit answers from its cache.
    warm = slimgo("build", *common, "--oci-layout", tmp_path / "warm", "--builder", builder.unix_address,
                  "--builder-image", builder.image, env=builder.env)
    assert warm.code == 0, warm.err
    local_doc, remote_doc, warm_doc = local.json(), remote.json(), warm.json()

    # The same index digest: same binaries, layers, configs and manifests for both platforms.
    assert remote_doc["image_digest"] == local_doc["image_digest"] == warm_doc["image_digest"]
    assert remote_doc["notes"] == local_doc["notes"]  # no note that the builder's binary differs
    assert "BuildKit linux/arm64: [compile" in remote.err  # it did run in BuildKit, each line names its platform

    # And the binary is byte for byte what a plain local `go build` with the same flags writes.
    plain = tmp_path / "plain-tiny"
    subprocess.run([go_bin, "build", "-trimpath", f"-ldflags=-s -w {LDFLAGS}", "-o", str(plain), "."],
                   cwd=repo, check=True, env={**os.environ, **GO_ENV, "CGO_ENABLED": "0", "GOOS": "linux",
                                              "GOARCH": "amd64"})
    shipped = _binary_from_layout(tmp_path / "remote", remote_doc, "linux/amd64", "tiny")
    assert hashlib.sha256(shipped).hexdigest() == hashlib.sha256(plain.read_bytes()).hexdigest()
    info = subprocess.run([go_bin, "version", "-m", str(plain)], capture_output=True, text=True, check=True).stdout
    assert f"vcs.revision={head}" in info  # VCS stamping happened on both sides

    # The image runs.
    load = subprocess.run([docker, "load", "-i", str(tmp_path / "tiny.tar")], capture_output=True, text=True)
    assert load.returncode == 0, load.stderr
    run = subprocess.run([docker, "run", "--rm", "--platform", "linux/amd64", tag], capture_output=True, text=True,
                         timeout=60)
    assert run.stdout == "tiny 1.2\n", run.stderr

    local_s, remote_s, warm_s = (d["timings_seconds"]["go_build"] for d in (local_doc, remote_doc, warm_doc))
    print(json.dumps({"program": "tiny, 2 platforms", "image_digest": remote_doc["image_digest"],
                      "binary_sha256_amd64": hashlib.sha256(shipped).hexdigest(), "go_build_seconds": {
                          "local": local_s, "buildkit_cold": remote_s, "buildkit_warm": warm_s}}))

    _failures_are_one_line_with_exit_codes(builder, tmp_path / "failures")


def _failures_are_one_line_with_exit_codes(builder: Builder, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir(parents=True)
    (bad / "go.mod").write_text("module example.com/bad\n\ngo 1.22\n")
    (bad / "main.go").write_text("package main\n\nfunc main() { x() }\n")
    args = ["build", "--oci-layout", tmp_path / "out", "--json"]

    compile_error = slimgo(*args, bad, "--builder", builder.address, "--builder-image", builder.image,
                           env=builder.env)
    assert compile_error.code == 1
    # the file named from where slimgo ran (here: not below it, so absolute), as a local `go build` names it
    assert compile_error.json()["error"]["message"] == f"compile error in example.com/bad: {bad}/main.go:3:15: undefined: x"
    assert f"{bad}/main.go:3:15: undefined: x" in compile_error.err  # Go's own output follows the one line

    good = tmp_path / "good"
    good.mkdir()
    (good / "go.mod").write_text("module example.com/good\n\ngo 1.22\n")
    (good / "main.go").write_text("package main\n\nfunc main() {}\n")
    missing = builder.image.rsplit(":", 1)[0] + ":0.0-absent"
    no_image = slimgo(*args, good, "--builder", builder.address, "--builder-image", missing, env=builder.env)
    assert no_image.code == 2
    assert no_image.json()["error"]["message"] == (
        f"builder image {missing}: not found (buildkitd must be able to pull it; see --builder-image)")

    closed = f"buildkit://127.0.0.1:{free_port()}"
    unreachable = slimgo(*args, good, "--builder", closed, env=builder.env)
    assert unreachable.code == 3
    message = unreachable.json()["error"]["message"]
    assert message.startswith(f"builder {closed} is unreachable: ") and "connection refused" in message
    assert not (tmp_path / "out").exists()  # nothing written by any failed build

    # Ctrl-C while two platforms compile (cold: 386 and arm were never built here) stops both builds.
    proc = subprocess.Popen([sys.executable, "-m", "slimgo", "build", good, "--platform", "linux/386,linux/arm/v7",
                             "--oci-layout", tmp_path / "out", "--builder", builder.address, "--builder-image",
                             builder.image], stderr=subprocess.PIPE, text=True, env={**os.environ, **builder.env})
    assert proc.stderr is not None
    for line in proc.stderr:
        if ": [compile 3/3] RUN" in line:  # a compile step has started
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, rest
    left = subprocess.run(["pgrep", "-f", f"buildctl --addr {builder.address.replace('buildkit://', 'tcp://')} build"],
                          capture_output=True, text=True)
    assert left.stdout == ""  # no buildctl left running
    assert not (tmp_path / "out").exists()
