"""A real BuildKit daemon for `slimgo build --builder`, and the Go builder image it pulls, both offline.

buildkitd runs as root with its OCI worker (Debian's runc) on a loopback TCP port, with its own state
directory and a config that lets it pull from the test registry over plain HTTP. The builder image is
this machine's GOROOT in one uncompressed layer (no shell, no git: a `go build` needs neither), pushed to
the test registry with skopeo, so no step reaches an image registry on the internet.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.support.registry import free_port

# Parts of GOROOT a `go build` of a program never reads (the toolchain's own tests and sources, API lists,
# docs, tools other than the compiler, assembler and linker): the image is half the size and pushes faster.
_GOROOT_SKIP = ("test", "api", "doc", "misc", "src/cmd", "pkg/tool/{goos_goarch}/vet", "pkg/tool/{goos_goarch}/fix",
                "pkg/tool/{goos_goarch}/cover", "pkg/tool/{goos_goarch}/preprofile", "pkg/tool/{goos_goarch}/trace",
                "pkg/tool/{goos_goarch}/pprof", "pkg/tool/{goos_goarch}/objdump", "pkg/tool/{goos_goarch}/doc")


def _goroot_filter(goroot: Path) -> Callable[[tarfile.TarInfo], tarfile.TarInfo | None]:
    goos_goarch = f"linux_{_goarch()}"
    skip = {f"usr/local/go/{p.format(goos_goarch=goos_goarch)}" for p in _GOROOT_SKIP}

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        name = info.name
        if name in skip or name.endswith("_test.go") or name.endswith("/testdata"):
            return None
        return info

    return keep


def tool(name: str) -> str | None:
    """buildkitd/buildctl on PATH, else where scripts/test.sh installs them (`go env GOPATH`/bin)."""
    found = shutil.which(name)
    if found:
        return found
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, check=False).stdout.strip()
    candidate = Path(gopath, "bin", name)
    return str(candidate) if gopath and candidate.is_file() else None


def go_version() -> str:
    out = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()
    return out.removeprefix("go")


def push_goroot_image(registry: str, work: Path, skopeo: str, with_git: bool = True) -> str:
    """REGISTRY/go:VERSION: GOROOT at /usr/local/go, PATH, HOME, GOPATH, GOTOOLCHAIN=local, /tmp. Returns
    the reference. with_git adds this machine's git and the libraries it loads (as golang images carry
    git), so Go stamps vcs.* build settings inside the builder as it does here."""
    goroot = Path(subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip())
    layout = work / "go-layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layer = work / "goroot.tar"
    with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, mode in (("tmp", 0o1777), ("root", 0o700), ("go", 0o755)):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        tar.add(goroot, arcname="usr/local/go", filter=_goroot_filter(goroot))
        if with_git:
            for path in _git_files():
                tar.add(os.path.realpath(path), arcname=path.lstrip("/"))
    digest = _file_sha256(layer)
    size = layer.stat().st_size
    layer.rename(blobs / digest)
    config = {"architecture": _goarch(), "os": "linux",
              "config": {"Env": ["PATH=/usr/local/go/bin:/usr/bin", "HOME=/root", "GOPATH=/go", "GOTOOLCHAIN=local"],
                         "WorkingDir": "/"},
              "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest}"]}}
    config_desc = _blob(blobs, "application/vnd.oci.image.config.v1+json", json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc,
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{digest}",
                            "size": size}]}
    manifest_desc = _blob(blobs, manifest["mediaType"], json.dumps(manifest).encode())
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [manifest_desc]}))
    ref = f"{registry}/go:{go_version()}"
    subprocess.run([skopeo, "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}", f"docker://{ref}"],
                   check=True, capture_output=True, timeout=300)
    shutil.rmtree(layout)
    return ref


def _git_files() -> list[str]:
    """/usr/bin/git and what `ldd` says it loads, at the paths the dynamic loader looks them up by."""
    git = "/usr/bin/git"
    out = subprocess.run(["ldd", git], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        words = line.split()
        path = words[2] if "=>" in words and len(words) > 2 else words[0] if words else ""
        if path.startswith("/"):
            libs.append(path)
    return [git, *libs]


def _goarch() -> str:
    return subprocess.run(["go", "env", "GOARCH"], capture_output=True, text=True, check=True).stdout.strip()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _blob(blobs: Path, media_type: str, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


@contextlib.contextmanager
def buildkitd(work: Path, insecure_registry: str, buildkitd_bin: str, buildctl_bin: str,
              timeout: float = 60) -> Iterator[str]:
    """Start buildkitd; yield its TCP address once `buildctl debug workers` lists a worker. It also listens
    on unix://WORK/buildkitd.sock. Stops it, unmounts whatever its worker left mounted under its root, and
    removes the root."""
    root = work / "buildkitd-root"
    root.mkdir(parents=True)
    addr = f"tcp://127.0.0.1:{free_port()}"
    config = work / "buildkitd.toml"
    config.write_text(f'root = "{root}"\n[grpc]\n  address = ["{addr}", "unix://{work / "buildkitd.sock"}"]\n'
                      f'[worker.oci]\n  enabled = true\n  binary = "{_runc()}"\n  gc = false\n'
                      '[worker.containerd]\n  enabled = false\n'
                      f'[registry."{insecure_registry}"]\n  http = true\n  insecure = true\n')
    log = work / "buildkitd.log"
    proc = subprocess.Popen([buildkitd_bin, "--config", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_line(proc, "running server on", log, timeout)
        # The server line comes once the gRPC listener is up; the workers answer from then on.
        out = subprocess.run([buildctl_bin, "--addr", addr, "debug", "workers"], capture_output=True, text=True,
                             timeout=timeout)
        if out.returncode != 0 or "linux/" not in out.stdout:
            raise RuntimeError(f"buildkitd has no worker: {out.stderr.strip() or out.stdout.strip()}")
        yield addr
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _unmount_under(root)
        # rm -rf: the snapshots hold the builder image's tens of thousands of files; about twice as fast
        subprocess.run(["rm", "-rf", "--one-file-system", str(root)], check=False)


def _runc() -> str:
    return shutil.which("runc") or "/usr/sbin/runc"


def _wait_for_line(proc: subprocess.Popen[str], marker: str, log: Path, timeout: float) -> None:
    """Read buildkitd's stderr until `marker` (kept in `log`, which also receives the rest afterwards)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        with open(log, "a", encoding="utf-8") as out:
            for line in proc.stderr:
                out.write(line)
                out.flush()
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"buildkitd did not start within {timeout:.0f} s (see {log})") from None
        if line is None:
            raise RuntimeError(f"buildkitd exited: {log.read_text()[-2000:]}")
        if marker in line:
            return


def _unmount_under(root: Path) -> None:
    prefix = str(root.resolve())
    with open("/proc/self/mounts", encoding="utf-8") as fh:
        points = [line.split()[1].encode().decode("unicode_escape") for line in fh]
    for point in sorted((p for p in points if p == prefix or p.startswith(prefix + os.sep)), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
