"""Load an image into a Docker engine through the Engine API (POST /images/load), no docker CLI."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from .archive import write_archive
from .content import Published
from .sink import SinkResult


def ping() -> None:
    """Is an engine answering? Asked before compiling, so `--load` fails in a second, not after a build."""
    from ..docker_api import api  # http.client and socket: imported only when an engine is asked

    try:
        status, _ = api("GET", "/_ping", timeout=10)
    except BadInput as exc:
        raise BadInput(f"--load: {exc}") from None
    if status != 200:
        raise BadInput(f"--load: the Docker engine answered {status} to /_ping")


def load_archive(archive: Path) -> list[str]:
    """POST the docker-archive; returns the engine's 'Loaded image' lines."""
    from ..docker_api import api

    with open(archive, "rb") as fh:
        status, body = api("POST", "/images/load?quiet=1", body=fh,
                           headers={"Content-Type": "application/x-tar",
                                    "Content-Length": str(archive.stat().st_size)})
    if status != 200:
        raise BadInput(f"Docker engine refused the image load ({status}): {body.decode(errors='replace')[:200]}")
    loaded = []
    for line in body.decode(errors="replace").splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if doc.get("error"):
            raise BadInput(f"Docker engine: {doc['error']}")
        text = str(doc.get("stream", "")).strip()
        if text:
            loaded.append(text)
    return loaded


@dataclass(frozen=True)
class DaemonSink:
    """`--load`: the docker-archive (host platform's image) posted to the engine, never left on disk."""

    host_arch: str
    remote: bool = True
    registry: bool = False  # asked beside the compile (stages.publish.check_outputs)

    def describe(self) -> str:
        return "loading into the Docker engine"

    def check(self) -> None:
        ping()

    def publish(self, pub: Published) -> SinkResult:
        with tempfile.TemporaryDirectory(prefix="slimgo-load-") as tmp:
            archive = write_archive(Path(tmp) / "load.tar", pub, self.host_arch)
            return SinkResult({"loaded": "; ".join(load_archive(archive))})
