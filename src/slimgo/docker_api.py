"""The Docker Engine API over its socket (or tcp://), without the docker CLI.

DOCKER_HOST picks the engine (unix:///path or tcp://host:port); the default is the local socket. Both the
daemon source (`docker-daemon:NAME`) and the daemon sink (`--load`) talk through here.
"""

from __future__ import annotations

import http.client
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from .errors import BadInput

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
