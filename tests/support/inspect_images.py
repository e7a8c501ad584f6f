"""Real images for `slimgo inspect` tests, built with the Docker engine (nothing can be pulled here) and
saved with `docker save`: a busybox base, a musl base, and the five images the issue names."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.images import _add_busybox, ensure_builder_image
from tests.support.parts import DOCKER, HELLO

BUSYBOX_TOOLS = ("sh", "rm", "mkdir", "dd", "cp", "chmod", "touch", "ln", "echo", "cat", "true", "mv")
MUSL_LOADER = "/lib/ld-musl-x86_64.so.1"
GOLANG_TAG = "slimgo-test/gobuilder:1"  # shared with the Dockerfile tests: the host GOROOT as a golang image
# A syntactically real PEM header is what the detector keys on; the body is junk, so nothing secret is in git.
FAKE_KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-not-a-real-key\n" \
           b"-----END OPENSSH PRIVATE KEY-----\n"
# struct vfs_cap_data, revision 2: CAP_NET_BIND_SERVICE permitted and effective.
CAP_NET_BIND = bytes.fromhex("01000002" "00040000" "00000000" "00000000" "00000000")


def docker(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([DOCKER, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "DOCKER_BUILDKIT": "0", **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}: {proc.stderr.strip()[-800:]}")
    return proc.stdout


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644, pax: dict[str, str] | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    if pax:
        info.pax_headers = pax
    tar.addfile(info, io.BytesIO(data))


def _rootfs(extra: list[tuple[str, bytes, int]], loader: str | None, caps: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add_busybox(tar, BUSYBOX_TOOLS, (("etc", 0o755), ("lib", 0o755), ("tmp", 0o1777), ("root", 0o700)))
        _add_file(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        _add_file(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        if loader:
            _add_file(tar, loader.lstrip("/"), Path(loader).read_bytes(), 0o755)
        if caps:  # a copy of busybox carrying a file capability, as `setcap` would leave it
            _add_file(tar, "bin/pinger", Path(shutil.which("busybox") or "/bin/busybox").read_bytes(), 0o755,
                      {"SCHILY.xattr.security.capability": CAP_NET_BIND.decode("latin-1")})
        for name, data, mode in extra:
            _add_file(tar, name, data, mode)
    return buf.getvalue()


def import_rootfs(tag: str, rootfs: bytes, changes: list[str] | None = None) -> None:
    with tempfile.NamedTemporaryFile(suffix=".tar") as tmp:
        tmp.write(rootfs)
        tmp.flush()
        cmd = ["import"]
        for c in changes or []:
            cmd += ["--change", c]
        docker(*cmd, tmp.name, tag)


def build(tag: str, context: Path, dockerfile: str) -> None:
    (context / "Dockerfile").write_text(dockerfile)
    docker("build", "-q", "-t", tag, str(context))


def save(tag: str, dest: Path) -> Path:
    docker("save", "-o", str(dest), tag)
    return dest


@dataclass
class Images:
    archives: dict[str, Path]
    tags: list[str]


def build_all(prefix: str, work: Path) -> Images:
    """Every test image as a docker-archive under work; tags (to remove) are returned."""
    tags: list[str] = []
    out: dict[str, Path] = {}

    def tag(name: str) -> str:
        t = f"{prefix}-{name}:1"
        tags.append(t)
        return t

    base = tag("busybox")
    import_rootfs(base, _rootfs([], None, caps=True))
    # 1. golang: the host's Go toolchain as an image (a stand-in for the official golang image).
    out["golang"] = save(ensure_builder_image(GOLANG_TAG), work / "golang.tar")
    # 2. slimgo's own output.
    subprocess.run([sys.executable, "-m", "slimgo", "build", str(HELLO), "--tarball", str(work / "slimgo.tar"),
                    "--no-reference"], check=True, capture_output=True)
    out["slimgo"] = work / "slimgo.tar"
    # 3. The article's alpine recipe: a cgo (glibc) binary on a musl base.
    musl = tag("musl")
    import_rootfs(musl, _rootfs([], MUSL_LOADER))
    ctx = work / "alpine-ctx"
    ctx.mkdir()
    subprocess.run(["go", "build", "-o", str(ctx / "app"), "."], cwd=HELLO, check=True, capture_output=True,
                   env={**os.environ, "CGO_ENABLED": "1"})
    build(tag("alpine-cgo"), ctx, f"FROM {musl}\nCOPY app /usr/local/bin/app\nENTRYPOINT [\"/usr/local/bin/app\"]\n")
    out["alpine-cgo"] = save(tags[-1], work / "alpine-cgo.tar")
    # 4. A planted secret (kept, and one deleted later), a setuid file, a token in ENV, root, a port.
    ctx = work / "secret-ctx"
    ctx.mkdir()
    (ctx / "id_rsa").write_bytes(FAKE_KEY)
    (ctx / "env").write_text("DB_PASSWORD=hunter2\n")
    build(tag("secret"), ctx, f"FROM {base}\nARG DB_PASSWORD=hunter3notreal\nCOPY id_rsa /root/.ssh/id_rsa\n"
                              "COPY env /app/.env\n"
                              "RUN cp /bin/busybox /bin/suidtool && chmod 4755 /bin/suidtool && rm /app/.env "
                              "&& mkdir /shared && chmod 777 /shared\n"
                              # what a .dockerignore or a cache clean-up would have kept out
                              "RUN mkdir -p /src/.git /src/node_modules/x /src/testdata /root/.cache/go-build/ab "
                              "/go/pkg/mod/example.com/m@v1 /var/cache/apt/archives "
                              "&& echo ref > /src/.git/HEAD && echo m > /src/node_modules/x/i.js "
                              "&& echo d > /src/testdata/in.txt && echo package main > /src/main.go "
                              "&& echo sum > /src/go.sum && echo o > /root/.cache/go-build/ab/obj "
                              "&& echo package m > /go/pkg/mod/example.com/m@v1/m.go "
                              "&& echo deb > /var/cache/apt/archives/x.deb\n"
                              "ENV API_TOKEN=abc123notreal\nEXPOSE 8080\nCMD [\"/bin/sh\"]\n")
    out["secret"] = save(tags[-1], work / "secret.tar")
    # 5. Layers that overwrite and delete: a file rewritten, a file deleted, a directory deleted, an opaque dir.
    ctx = work / "multi-ctx"
    ctx.mkdir()
    build(tag("multi"), ctx, f"FROM {base}\n"
                             "RUN mkdir -p /data/d /data/o && dd if=/dev/zero of=/data/a bs=1024 count=300 "
                             "&& dd if=/dev/zero of=/data/d/x bs=1024 count=200 && echo one > /data/o/old\n"
                             "RUN dd if=/dev/zero of=/data/a bs=1024 count=500 && rm -rf /data/d\n"
                             "RUN rm /data/a && rm -rf /data/o && mkdir /data/o && echo two > /data/o/new\n"
                             "CMD [\"/bin/true\"]\n")
    out["multi"] = save(tags[-1], work / "multi.tar")
    return Images(out, tags)
