"""Checks in a real Docker engine: does the image start, and what does the probe find in it."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..oci.model import Image
from ..oci.reference import Reference
from ..sinks.archive import write_archive
from ..sinks.content import Published

DOCKER_CANDIDATES = ("/usr/bin/docker", "docker")


def docker_cli() -> str | None:
    for c in DOCKER_CANDIDATES:
        path = shutil.which(c) if not c.startswith("/") else (c if Path(c).exists() else None)
        if path and subprocess.run([path, "info"], capture_output=True).returncode == 0:
            return path
    return None


@dataclass
class Engine:
    docker: str
    run_id: str

    def load(self, image: Image, tag: str, work: Path, arch: str) -> None:
        archive = work / f"{tag.replace('/', '_').replace(':', '_')}.tar"
        write_archive(archive, Published(image, (Reference.parse(tag),)), arch)
        proc = subprocess.run([self.docker, "load", "-i", str(archive)], capture_output=True, text=True)
        archive.unlink()
        if proc.returncode != 0:
            raise RuntimeError(f"docker load failed: {proc.stderr.strip()[-300:]}")

    def version(self) -> str:
        proc = subprocess.run([self.docker, "version", "--format", "{{.Server.Version}}"], capture_output=True,
                              text=True)
        return proc.stdout.strip() if proc.returncode == 0 else "unknown version"

    def zstd_error(self, work: Path, arch: str) -> str:
        """Can this engine decompress zstd layers? Measured with a layer no engine has seen before (a
        random file), so the answer is not a layer the engine skipped because it already had it.

        Docker 20.10 has no zstd in its decompressor: it reads the frame as a plain tar and says
        "archive/tar: invalid tar header". It used to look as if it loaded slimgo's zstd images, but those
        layers were already in the engine from the gzip twin (same diff_ids), so nothing was decompressed.
        """
        import secrets

        from ..oci.layer import file_entry, write_layer
        from ..oci.model import ImageConfig, make_image

        layer = write_layer([file_entry("slimgo-zstd-check", secrets.token_bytes(4096))], work / "zstd-check",
                            compression="zstd")
        image = make_image({}, [layer], ImageConfig(platform={"os": "linux", "architecture": arch},
                                                    created="1970-01-01T00:00:00Z"), [])
        tag = f"slimgo-compare/{self.run_id}:zstd-check"
        try:
            self.load(image, tag, work, arch)
            return ""
        except RuntimeError as exc:
            return str(exc)
        finally:
            self.remove(tag)

    def remove(self, tag: str) -> None:
        subprocess.run([self.docker, "rmi", "-f", tag], capture_output=True)

    def starts(self, tag: str, run_args: list[str], port: int | None, ready: str | None,
               grace: float) -> tuple[bool, str]:
        if port is None and ready is None:
            try:
                proc = subprocess.run([self.docker, "run", "--rm", tag, *run_args], capture_output=True, text=True,
                                      timeout=grace + 10)
            except subprocess.TimeoutExpired:
                subprocess.run([self.docker, "rm", "-f", tag], capture_output=True)
                return True, "still running after the grace period"
            if proc.returncode == 0:
                return True, ""
            return False, _why(proc.stdout + proc.stderr, proc.returncode)
        publish = ["-p", f"127.0.0.1::{port}"] if port is not None else []
        proc = subprocess.run([self.docker, "run", "-d", *publish, tag, *run_args], capture_output=True, text=True)
        if proc.returncode != 0:
            return False, _why(proc.stderr, proc.returncode)
        cid = proc.stdout.strip()
        try:
            deadline = time.monotonic() + max(grace, 15)
            host_port = None
            while time.monotonic() < deadline:
                state = subprocess.run([self.docker, "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", cid],
                                       capture_output=True, text=True).stdout.split()
                if state and state[0] == "false":
                    logs = subprocess.run([self.docker, "logs", cid], capture_output=True, text=True)
                    return False, _why(logs.stdout + logs.stderr, int(state[1]) if len(state) > 1 else -1)
                if port is not None:
                    if host_port is None:
                        out = subprocess.run([self.docker, "port", cid, str(port)], capture_output=True,
                                             text=True).stdout.strip().splitlines()
                        host_port = int(out[0].rsplit(":", 1)[1]) if out else None
                    if host_port and _served(host_port):
                        return True, ""
                if ready is not None:
                    logs = subprocess.run([self.docker, "logs", cid], capture_output=True, text=True)
                    if re.search(ready, logs.stdout + logs.stderr):
                        return True, ""
                time.sleep(0.2)
            return False, "not ready before the deadline"
        finally:
            subprocess.run([self.docker, "rm", "-f", cid], capture_output=True)

    def probe(self, tag: str) -> tuple[dict[str, Any] | None, str]:
        proc = subprocess.run([self.docker, "run", "--rm", tag], capture_output=True, text=True, timeout=60)
        line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        try:
            return json.loads(line), ""
        except ValueError:
            return None, _why(proc.stdout + proc.stderr, proc.returncode)


def _served(port: int) -> bool:
    """A published port accepts at once through docker-proxy even when nothing listens inside; a real
    server keeps the connection open, the proxy closes it."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.settimeout(0.3)
            try:
                return s.recv(1) != b""
            except socket.timeout:
                return True
    except OSError:
        return False


def _why(output: str, code: int) -> str:
    text = " ".join(output.strip().split())
    if "no such file or directory" in text and "exec" in text:
        return "exec failed: no such file or directory (the ELF interpreter is missing from the image)"
    return (text[-240:] if text else f"exited with status {code}")
