"""A small hostile registry on 127.0.0.1: each route answers the way a test scripts it (drip bytes, lie about
sizes, send 5xx forever, point uploads at another host, send huge tokens), and every request is recorded
with its headers, so tests can assert what slimgo sent where."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: object) -> None:
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.owner.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
        for (method, prefix), route in self.server.owner.routes.items():
            if method in (self.command, "*") and self.path.startswith(prefix):
                route(self)
                return
        self.reply(404, b'{"errors":[{"code":"NOT_FOUND","message":"no route"}]}')

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _dispatch

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def drip(self, status: int, chunk: bytes, every: float, stop: threading.Event,
             headers: dict[str, str] | None = None) -> None:
        """A body that never ends: one chunk every `every` seconds until the client hangs up."""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with contextlib.suppress(OSError):
            while not stop.is_set():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                stop.wait(every)

    def drip_headers(self, every: float, stop: threading.Event) -> None:
        """A status line, then headers one byte at a time, forever."""
        with contextlib.suppress(OSError):
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self.wfile.flush()
            while not stop.is_set():
                self.wfile.write(b"a")
                self.wfile.flush()
                stop.wait(every)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileRegistry


@dataclass
class HostileRegistry:
    host_ip: str = "127.0.0.1"
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def host(self) -> str:
        return f"{self.host_ip}:{self.port}"

    def route(self, method: str, prefix: str) -> Callable[[Route], Route]:
        def register(fn: Route) -> Route:
            self.routes[(method, prefix)] = fn
            return fn
        return register

    def requests_to(self, method: str, prefix: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(prefix)]

    @contextlib.contextmanager
    def run(self) -> Iterator[HostileRegistry]:
        server = _Server((self.host_ip, 0), Handler)
        server.owner = self
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            server.shutdown()
            server.server_close()


def loopback_alias_works(ip: str = "127.0.0.2") -> bool:
    try:
        with socket.socket() as s:
            s.bind((ip, 0))
        return True
    except OSError:
        return False


def wait_until(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()
