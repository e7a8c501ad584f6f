"""A container in the real engine for the length of a `with` block, with its published ports and a bounded
wait for a line in its log (the event a test waits for, never a sleep)."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

DOCKER = "/usr/bin/docker"


@dataclass
class Container:
    id: str
    ports: dict[int, int]  # container port -> host port on 127.0.0.1

    def wait_log(self, pattern: str, timeout: float = 60) -> str:
        """Follow the log until a line matches; fail with the log so far if the container exits or time runs out."""
        proc = subprocess.Popen([DOCKER, "logs", "-f", self.id], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        seen: list[str] = []
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(proc.stdout, selectors.EVENT_READ)
                while (left := deadline - time.monotonic()) > 0:
                    if not sel.select(left):
                        continue
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        break  # the container exited
                    *lines, buf = (buf + chunk).split(b"\n")
                    for raw in lines:
                        line = raw.decode(errors="replace").rstrip()
                        seen.append(line)
                        if re.search(pattern, line):
                            return line
        finally:
            proc.kill()
            proc.wait()
        raise AssertionError(f"no log line matching {pattern!r} within {timeout}s; log:\n" + "\n".join(seen))

    def logs(self) -> str:
        proc = subprocess.run([DOCKER, "logs", self.id], capture_output=True, text=True, timeout=30)
        return proc.stdout + proc.stderr

    def running(self) -> bool:
        proc = subprocess.run([DOCKER, "inspect", "-f", "{{.State.Running}}", self.id], capture_output=True,
                              text=True, timeout=30)
        return proc.stdout.strip() == "true"


@contextlib.contextmanager
def run_container(image: str, *args: str, ports: tuple[int, ...] = (), platform: str | None = None,
                  prefix: str = "slimgo-test", options: tuple[str, ...] = ()) -> Iterator[Container]:
    """`docker run -d` with each port published on a free 127.0.0.1 port; removed when the block ends."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    cmd = [DOCKER, "run", "-d", "--name", name, *options]
    if platform:
        cmd += ["--platform", platform]
    for p in ports:
        cmd += ["-p", f"127.0.0.1::{p}"]
    proc = subprocess.run([*cmd, image, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    cid = proc.stdout.strip()
    try:
        published = {}
        for p in ports:
            out = subprocess.run([DOCKER, "port", cid, f"{p}/tcp"], capture_output=True, text=True, timeout=30)
            published[p] = int(out.stdout.split()[0].rsplit(":", 1)[1])
        yield Container(cid, published)
    finally:
        subprocess.run([DOCKER, "rm", "-f", cid], capture_output=True, timeout=60)
