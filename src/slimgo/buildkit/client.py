"""Driving BuildKit's own client, `buildctl`: find it, check the daemon answers, run one build.

buildctl is a requirement of `--builder` (BuildKit's wire protocol is gRPC over a session with file
sync; its own client speaks it exactly). Its plain progress output is read line by line: step titles
become progress messages, and a failed step's own output (Go's compile errors) becomes the error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..errors import BadInput, RemoteError, ToolMissing
from .address import BuilderAddress

Progress = Callable[[str], None]
CHECK_SECONDS = 20
# buildctl relays what the builder (a remote daemon, its image, the compiled code) prints: each line is read
# to at most MAX_LINE characters (the rest of a longer one is dropped), and the log keeps at most MAX_KEPT
# characters of titles and step output; past that it still follows the steps, the failed one and the error.
MAX_LINE = 8192
MAX_KEPT = 4 << 20
_STEP = re.compile(r"^#(?P<n>\d+) (?P<rest>.*)$")
_STEP_OUTPUT = re.compile(r"^\d+\.\d+ (?P<text>.*)$")
_TITLE = re.compile(r"^\[(?P<title>[^\]]+)\]")
_UNREACHABLE = ("connection refused", "connection error", "Unavailable", "no such host", "no such file",
                "deadline exceeded", "Unimplemented", "transport:", "cannot connect", "timeout")


@dataclass(frozen=True)
class Buildctl:
    exe: str
    address: BuilderAddress

    @classmethod
    def find(cls, address: BuilderAddress, env: dict[str, str] | None = None) -> Buildctl:
        environ = os.environ if env is None else env
        chosen = environ.get("SLIMGO_BUILDCTL")
        if chosen and not Path(chosen).is_file():  # a typo there must not read as "install buildctl"
            raise ToolMissing(f"$SLIMGO_BUILDCTL={chosen}: no such file (it names BuildKit's client, buildctl)")
        exe = chosen or shutil.which("buildctl", path=environ.get("PATH"))
        if not exe or not Path(exe).is_file():
            raise ToolMissing("--builder needs BuildKit's client `buildctl` on PATH (or $SLIMGO_BUILDCTL): "
                              "not found; install it from a BuildKit release")
        return cls(exe, address)

    def base(self) -> list[str]:
        return [self.exe, *self.address.buildctl_args()]

    def workers(self) -> list[str]:
        """The builder's worker platforms; a builder that does not answer is a remote failure (exit 3)."""
        try:
            proc = subprocess.run([*self.base(), "--timeout", str(CHECK_SECONDS), "debug", "workers",
                                   "--format", "{{range .}}{{range .Platforms}}{{.OS}}/{{.Architecture}} {{end}}{{end}}"],
                                  capture_output=True, text=True, timeout=CHECK_SECONDS + 10, check=False)
        except subprocess.TimeoutExpired:
            raise RemoteError(f"builder {self.address.given} is unreachable: no answer in {CHECK_SECONDS} s") from None
        if proc.returncode != 0:
            raise RemoteError(f"builder {self.address.given} is unreachable: {_last_error(proc.stderr)}")
        platforms = proc.stdout.split()
        if not platforms:
            raise RemoteError(f"builder {self.address.given} has no worker")
        return platforms

    def build(self, context: Path, dockerfile_dir: Path, out: Path, builder_image: str,
              progress: Progress | None, started: Callable[[subprocess.Popen[str]], None] | None = None) -> BuildLog:
        """`started` hears of the buildctl process, so a caller running several builds in threads can stop
        them all when interrupted."""
        cmd = [*self.base(), "build", "--frontend", "dockerfile.v0", "--local", f"context={context}",
               "--local", f"dockerfile={dockerfile_dir}", "--opt", f"build-arg:BUILDER_IMAGE={builder_image}",
               "--output", f"type=local,dest={out}", "--progress", "plain"]
        log = BuildLog()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if started is not None:
            started(proc)
        assert proc.stderr is not None
        try:
            for line in bounded_lines(proc.stderr, MAX_LINE):
                message = log.feed(line)
                if message and progress is not None:
                    progress(message)
            log.returncode = proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: do not leave a build running
                proc.kill()
                proc.wait()
            proc.stderr.close()
        return log


@dataclass
class BuildLog:
    """buildctl's plain progress, kept per step: titles, the output lines of each step, the final error."""

    returncode: int = -1
    titles: dict[str, str] = field(default_factory=dict)
    output: dict[str, list[str]] = field(default_factory=dict)
    failed_step: str | None = None
    error: str = ""
    kept: int = 0  # characters held in titles and output (bounded by MAX_KEPT)

    def _keep(self, text: str) -> bool:
        if self.kept + len(text) > MAX_KEPT:
            return False
        self.kept += len(text)
        return True

    def feed(self, line: str) -> str | None:
        if line.startswith("error: "):
            self.error = line.removeprefix("error: ").strip()
            return None
        m = _STEP.match(line)
        if not m:
            return None
        n, rest = m.group("n"), m.group("rest")
        title = _TITLE.match(rest)
        if title and n not in self.titles and self._keep(rest):
            self.titles[n] = rest
            return "BuildKit: " + (rest if len(rest) <= 100 else rest[:99] + "…")
        if rest.startswith("ERROR"):
            self.failed_step = n
            return None
        text = _STEP_OUTPUT.match(rest)
        if text and self._keep(text.group("text")):
            self.output.setdefault(n, []).append(text.group("text"))
        return None

    def step_output(self) -> str:
        """The failed step's own output (Go's messages), as Go printed them."""
        if self.failed_step is None:
            return ""
        return "\n".join(self.output.get(self.failed_step, []))

    def failed_in_run(self) -> bool:
        return "did not complete successfully" in self.error

    def image_error(self, image: str) -> str | None:
        """Why buildkitd could not pull the builder image, if that is what failed."""
        if "failed to resolve source metadata" not in self.error and image not in self.error:
            return None
        reason = self.error.rsplit(": ", 1)[-1]
        if "not found" in reason:
            return f"builder image {image}: not found (buildkitd must be able to pull it; see --builder-image)"
        return f"builder image {image}: buildkitd cannot pull it: {reason}"


def bounded_lines(stream: IO[str], limit: int) -> Iterator[str]:
    """The stream's lines without their newline, each cut to `limit` characters (a line of gigabytes with
    no newline would otherwise be held whole)."""
    while True:
        line = stream.readline(limit)
        if not line:
            return
        if line.endswith("\n"):
            yield line[:-1]
            continue
        yield line
        while line and not line.endswith("\n"):  # the rest of an overlong line
            line = stream.readline(limit)


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else "no answer"
    return last.removeprefix("error: ")


def failure(log: BuildLog, address: BuilderAddress, builder_image: str) -> BadInput | RemoteError:
    """A failed build that is not a compile error: the builder image, the connection, or BuildKit itself."""
    image = log.image_error(builder_image)
    if image:
        return BadInput(image)
    if any(word in log.error for word in _UNREACHABLE) and not log.titles:
        return RemoteError(f"builder {address.given} is unreachable: {log.error}")
    return RemoteError(f"BuildKit build on {address.given} failed: {log.error or 'exit ' + str(log.returncode)}")
