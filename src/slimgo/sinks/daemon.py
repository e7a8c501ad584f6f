"""Load an image into a Docker engine through the Engine API (POST /images/load), no docker CLI.

DOCKER_HOST picks the engine (unix:///path or tcp://host:port); the default is the local socket.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from urllib.parse import quote, urlparse

from ..errors import BadInput

DEFAULT_SOCKET = "/var/run/docker.sock"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 300) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def connection() -> http.client.HTTPConnection:
    host = os.environ.get("DOCKER_HOST", f"unix://{DEFAULT_SOCKET}")
    url = urlparse(host)
    if url.scheme == "unix":
        path = url.path or DEFAULT_SOCKET
        if not Path(path).exists():
            raise BadInput(f"no Docker engine socket at {path} (is dockerd running? set DOCKER_HOST)")
        return _UnixConnection(path)
    if url.scheme in ("tcp", "http"):
        return http.client.HTTPConnection(url.hostname or "localhost", url.port or 2375, timeout=300)
    raise BadInput(f"DOCKER_HOST={host}: only unix:// and tcp:// engines are supported")


def api(method: str, path: str, body: object = None, headers: dict[str, str] | None = None,
        timeout: float | None = None) -> tuple[int, bytes]:
    conn = connection()
    if timeout is not None:
        conn.timeout = timeout
    try:
        conn.request(method, path, body=body, headers=headers or {})  # type: ignore[arg-type]
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError as exc:
        raise BadInput(f"Docker engine unreachable ({exc.strerror or exc})") from None
    finally:
        conn.close()


def ping() -> None:
    """Is an engine answering? Asked before compiling, so `--load` fails in a second, not after a build."""
    try:
        status, _ = api("GET", "/_ping", timeout=10)
    except BadInput as exc:
        raise BadInput(f"--load: {exc}") from None
    if status != 200:
        raise BadInput(f"--load: the Docker engine answered {status} to /_ping")


def load_archive(archive: Path) -> list[str]:
    """POST the docker-archive; returns the engine's 'Loaded image' lines."""
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


def save_image(name: str, dest: Path) -> Path:
    """GET /images/NAME/get into dest (a docker-archive), for `--base docker-daemon:NAME`."""
    conn = connection()
    try:
        conn.request("GET", f"/images/{quote(name, safe='')}/get")
        resp = conn.getresponse()
        if resp.status == 404:
            raise BadInput(f"docker-daemon:{name}: no such image in the engine")
        if resp.status != 200:
            raise BadInput(f"docker-daemon:{name}: engine answered {resp.status}")
        with open(dest, "wb") as fh:
            while chunk := resp.read(1 << 20):
                fh.write(chunk)
    except OSError as exc:
        raise BadInput(f"Docker engine unreachable ({exc.strerror or exc})") from None
    finally:
        conn.close()
    return dest
