"""Real registries for tests: Debian's docker-registry (CNCF distribution) on loopback, optionally behind
htpasswd basic auth or token auth (with a token server run by the test), and a TCP proxy that injects
faults (a dropped upload, 503s, a stall) between slimgo and the registry."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlparse

REGISTRY_BIN = "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")
        time.sleep(0.1)


@contextlib.contextmanager
def registry(work: Path, auth_yaml: str = "") -> Iterator[str]:
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "registry.yml"
    cfg.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {work / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{auth_yaml}")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=open(work / "registry.log", "wb"))
    try:
        _wait_port(port)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def htpasswd_yaml(work: Path, user: str, password: str) -> str:
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4, prefix=b"2a")).decode()
    path = work / "htpasswd"
    work.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{user}:{hashed}\n")
    return f"auth:\n  htpasswd:\n    realm: slimgo-test\n    path: {path}\n"


@dataclass
class TokenServer:
    """Issues registry JWTs (RS256, x5c header) to callers with the right basic credentials."""

    user: str
    password: str
    service: str = "slimgo-test-registry"
    issuer: str = "slimgo-test-issuer"
    port: int = field(default_factory=free_port)
    issued: int = 0

    def __post_init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "slimgo test token issuer")])
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.cert_der_b64 = base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()

    def auth_yaml(self, work: Path) -> str:
        bundle = work / "token-bundle.pem"
        work.mkdir(parents=True, exist_ok=True)
        bundle.write_bytes(self.cert_pem)
        return (f"auth:\n  token:\n    realm: http://127.0.0.1:{self.port}/token\n    service: {self.service}\n"
                f"    issuer: {self.issuer}\n    rootcertbundle: {bundle}\n")

    def token(self, scopes: list[str], subject: str) -> str:
        import jwt

        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"x5c": [self.cert_der_b64]})

    @contextlib.contextmanager
    def serve(self) -> Iterator["TokenServer"]:
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                query = parse_qs(url.query)
                expected = "Basic " + base64.b64encode(f"{server_self.user}:{server_self.password}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": server_self.token(query.get("scope", []), server_self.user)}).encode()
                server_self.issued += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ")


@dataclass
class FaultProxy:
    """A loopback TCP proxy in front of a registry.

    mode "drop-upload": the first blob upload request (PUT/PATCH to /blobs/uploads/) is cut off halfway and
    both sockets closed. mode "503": the first `count` requests are answered 503 by the proxy itself.
    mode "stall": after `count` blob uploads completed (201 to a blob PUT), all traffic is held.
    """

    upstream: str
    mode: str
    count: int = 2
    port: int = field(default_factory=free_port)
    faults: int = 0
    completed_uploads: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @contextlib.contextmanager
    def run(self) -> Iterator["FaultProxy"]:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=self._handle, args=(client,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        try:
            yield self
        finally:
            stop.set()
            listener.close()

    def _handle(self, client: socket.socket) -> None:
        host, port = self.upstream.split(":")
        try:
            server = socket.create_connection((host, int(port)))
        except OSError:
            client.close()
            return
        pending_upload = threading.Event()

        def close_both() -> None:
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

        def up() -> None:
            try:
                while data := client.recv(65536):
                    if self.stalled.is_set():
                        time.sleep(3600)
                    is_request = data.startswith(METHODS)
                    if is_request and self.mode == "503":
                        with self._lock:
                            inject = self.faults < self.count
                            if inject:
                                self.faults += 1
                        if inject:
                            client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                           b"Connection: close\r\n\r\n")
                            close_both()
                            return
                    upload = is_request and data.startswith((b"PUT ", b"PATCH ")) and b"/blobs/uploads/" in \
                        data.split(b"\r\n", 1)[0]
                    if upload and self.mode == "drop-upload":
                        with self._lock:
                            inject = self.faults < 1
                            if inject:
                                self.faults += 1
                        if inject:
                            server.sendall(data[: max(1, len(data) // 2)])
                            close_both()
                            return
                    if upload and data.startswith(b"PUT ") and b"digest=" in data.split(b"\r\n", 1)[0]:
                        pending_upload.set()
                    server.sendall(data)
            except OSError:
                pass
            finally:
                close_both()

        def down() -> None:
            try:
                while data := server.recv(65536):
                    if self.stalled.is_set():
                        time.sleep(3600)
                    if pending_upload.is_set() and data.startswith(b"HTTP/1.1 201"):
                        pending_upload.clear()
                        with self._lock:
                            self.completed_uploads += 1
                            if self.mode == "stall" and self.completed_uploads >= self.count:
                                client.sendall(data)
                                self.stalled.set()
                                continue
                    client.sendall(data)
            except OSError:
                pass
            finally:
                close_both()

        threading.Thread(target=up, daemon=True).start()
        threading.Thread(target=down, daemon=True).start()


def docker_config(tmp: Path, host: str, user: str, password: str) -> Path:
    """A DOCKER_CONFIG directory whose config.json has an auths entry for host."""
    d = tmp / f"docker-config-{uuid.uuid4().hex[:6]}"
    d.mkdir(parents=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (d / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return d


def have_registry() -> bool:
    return Path(REGISTRY_BIN).exists() or shutil.which("docker-registry") is not None
