"""HTTP to one registry host, with the only retry layer of the client.

A registry is untrusted and may be slow on purpose. Each request has an overall deadline (retries, waits
and the answer's headers included: the headers are awaited on a worker thread, so a server dripping one
byte every 20 s cannot hold us, whatever the per-read timeout); a body must keep a minimum rate; a body read
into memory has a size limit. Credentials go only to this registry's own host: an upload `Location` on
another host gets the request without `Authorization` (as Docker does); redirects are left to requests,
which drops the header when the host changes.

Connection errors, timeouts, 429 and 5xx are retried with backoff here, and nowhere else: a multi-request
operation (an upload session) is retried as a whole through `retrying`, with its requests sent once each.
After the last try the failure is a `RemoteError` (exit 3), never bad input.
"""

from __future__ import annotations

import io
import ipaddress
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Lock
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

from ..errors import BadInput, RemoteError
from ..limits import (
    CONNECT_TIMEOUT,
    MAX_DOCUMENT,
    MAX_ERROR_BODY,
    MAX_TRIES,
    MIN_RATE,
    MIN_RATE_WINDOW,
    READ_TIMEOUT,
    REQUEST_DEADLINE,
)

if TYPE_CHECKING:
    import requests

RETRY_STATUS = {429, 500, 502, 503, 504}
T = TypeVar("T")


class RegistryError(BadInput):
    """A registry refused a request (4xx, unknown manifest, bad answer). Messages name the registry, never
    a credential."""


class AuthError(RegistryError):
    pass


class Retryable(Exception):
    """One attempt failed in a way worth another try; carries the message of the final RemoteError."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass
class PushStats:
    uploaded: int = 0
    uploaded_bytes: int = 0
    skipped: int = 0
    mounted: int = 0
    existing_manifests: int = 0  # a tag that already named the image: nothing of it was sent
    retries: int = 0
    _lock: Lock = field(default_factory=Lock, repr=False)

    def add(self, **kw: int) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def to_json(self) -> dict[str, int]:
        return {"uploaded_blobs": self.uploaded, "uploaded_bytes": self.uploaded_bytes,
                "skipped_blobs": self.skipped, "mounted_blobs": self.mounted,
                "existing_manifests": self.existing_manifests, "retries": self.retries}


@dataclass(frozen=True)
class Policy:
    """Retry and time bounds (tests shrink them)."""

    max_tries: int = MAX_TRIES
    backoff: float = 0.2
    deadline: float = REQUEST_DEADLINE
    min_rate: int = MIN_RATE
    rate_window: float = MIN_RATE_WINDOW
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT


AuthHeader = Callable[[str], "dict[str, str]"]
Challenge = Callable[[str, str], None]


class Transport:
    def __init__(self, host: str, *, insecure: bool = False, policy: Policy | None = None,
                 stats: PushStats | None = None) -> None:
        self.host = host
        self.scheme = "http" if insecure or is_loopback(host) else "https"
        self.base = f"{self.scheme}://{host}"
        import requests  # ~45 ms: paid only by commands that reach a registry, not by every `build`

        self.session = requests.Session()
        self.policy = policy or Policy()
        self.stats = stats or PushStats()
        # Set by the client: the Authorization header for a scope, and the handler of a 401 challenge.
        self.auth_header: AuthHeader = lambda scope: {}
        self.on_challenge: Challenge | None = None
        self.auth_source: Callable[[], str] = lambda: "no credentials"

    # ---- urls ------------------------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        return urljoin(self.base + "/", path_or_url)

    def is_own(self, url: str) -> bool:
        """Whether credentials may go to url: only this registry's scheme and host:port."""
        parts = urlsplit(url)
        return parts.scheme == self.scheme and parts.netloc.lower() == self.host.lower()

    # ---- one attempt -----------------------------------------------------------------------------------
    def _send(self, method: str, url: str, deadline: float, **kw: Any) -> requests.Response:
        """session.request, awaited at most until the deadline (the headers can be dripped slowly)."""
        box: dict[str, Any] = {}
        done = threading.Event()
        timeout = (self.policy.connect_timeout, self.policy.read_timeout)

        def run() -> None:
            try:
                box["resp"] = self.session.request(method, url, timeout=timeout, **kw)
            except BaseException as exc:  # handed to the caller's thread
                box["exc"] = exc
            finally:
                done.set()

        threading.Thread(target=run, daemon=True, name="slimgo-http").start()
        if not done.wait(max(0.0, deadline - time.monotonic())):
            raise Retryable(f"{self.host}: no answer to {method} {_redact(url)} within the deadline")
        if "exc" in box:
            import requests  # already loaded by __init__

            exc = box["exc"]
            if isinstance(exc, (requests.ConnectionError, requests.Timeout,
                                requests.exceptions.ChunkedEncodingError)):
                raise Retryable(f"{self.host}: connection failed ({type(exc).__name__})")
            if isinstance(exc, requests.RequestException):
                raise RegistryError(f"{self.host}: {method} {_redact(url)} failed ({type(exc).__name__})")
            raise exc
        resp: requests.Response = box["resp"]
        return resp

    def attempt(self, method: str, path_or_url: str, *, scope: str = "", ok: tuple[int, ...] = (200,),
                allow: tuple[int, ...] = (), data: bytes | None = None, headers: dict[str, str] | None = None,
                stream: bool = False, deadline: float | None = None) -> requests.Response:
        """One request (a 401 challenge answered once), no retry: Retryable on what a retry may cure."""
        url = self.url(path_or_url)
        deadline = deadline if deadline is not None else time.monotonic() + self.policy.deadline
        challenged = False
        while True:
            auth = self.auth_header(scope) if self.is_own(url) else {}
            resp = self._send(method, url, deadline, data=data, stream=True, allow_redirects=True,
                              headers={**(headers or {}), **auth})
            if resp.status_code == 401 and not challenged and self.on_challenge is not None and self.is_own(url):
                challenged = True
                challenge = resp.headers.get("WWW-Authenticate", "")
                resp.close()
                self.on_challenge(challenge, scope)
                continue
            if resp.status_code in ok or resp.status_code in allow:
                if not stream:
                    resp._content = self.read_body(resp, MAX_DOCUMENT, f"{method} {_redact(url)}",
                                                   deadline)
                return resp
            detail = _error_text(self.read_body(resp, MAX_ERROR_BODY, "error answer", deadline, strict=False))
            if resp.status_code in RETRY_STATUS:
                retry_after = resp.headers.get("Retry-After", "")
                raise Retryable(f"{self.host}: {method} {_redact(url)} answered {resp.status_code}{detail}",
                                float(retry_after) if retry_after.isdigit() else None)
            if resp.status_code == 401:
                raise AuthError(f"{self.host}: authentication refused ({self.auth_source()})")
            if resp.status_code == 403:
                raise AuthError(f"{self.host}: access denied to {scope or _redact(url)}")
            raise RegistryError(f"{self.host}: {method} {_redact(url)} answered {resp.status_code}{detail}")

    # ---- the retry layer -------------------------------------------------------------------------------
    def retrying(self, op: Callable[[], T], deadline: float | None = None) -> T:
        """op until it succeeds, with backoff, at most max_tries times and (if given) until the deadline."""
        tries = 0
        while True:
            tries += 1
            try:
                return op()
            except Retryable as exc:
                hint = exc.retry_after
                wait = min(hint if hint is not None else self.policy.backoff * 2 ** (tries - 1), 10.0)
                if tries >= self.policy.max_tries or (deadline is not None and time.monotonic() + wait > deadline):
                    raise RemoteError(f"{exc} (after {tries} tries)") from None
                self.stats.add(retries=1)
                time.sleep(wait)

    def request(self, method: str, path_or_url: str, **kw: Any) -> requests.Response:
        """One request, retried; the deadline covers every try and wait."""
        deadline = time.monotonic() + self.policy.deadline
        return self.retrying(lambda: self.attempt(method, path_or_url, deadline=deadline, **kw), deadline)

    # ---- bodies ----------------------------------------------------------------------------------------
    def read_body(self, resp: requests.Response, limit: int, what: str, deadline: float | None = None,
                  *, strict: bool = True) -> bytes:
        """The whole body, at most `limit` bytes (strict: more is an error; else it is cut), within the
        deadline and the minimum rate."""
        stream = BodyStream(resp, self.policy, f"{self.host}: {what}", deadline)
        out = bytearray()
        try:
            while chunk := stream.read(min(1 << 16, limit + 1 - len(out))):
                out += chunk
                if len(out) > limit:
                    if strict:
                        raise RegistryError(f"{self.host}: {what}: answer larger than the limit of {limit} bytes")
                    return bytes(out[:limit])
        finally:
            resp.close()
        return bytes(out)

    def body_stream(self, resp: requests.Response, what: str) -> io.RawIOBase:
        return BodyStream(resp, self.policy, f"{self.host}: {what}", None)


class BodyStream(io.RawIOBase):
    """A response body that fails (RemoteError) when it falls below the minimum rate or passes the
    deadline. Reads return after one socket read (read1), so a drip is seen between bytes."""

    def __init__(self, resp: requests.Response, policy: Policy, what: str, deadline: float | None) -> None:
        super().__init__()
        self.resp, self.policy, self.what, self.deadline = resp, policy, what, deadline
        self.start = time.monotonic()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        try:
            data = self.resp.raw.read1(len(view))
        except Exception as exc:  # urllib3's read errors have no common base worth naming here
            raise RemoteError(f"{self.what}: connection failed while reading ({type(exc).__name__})") from None
        self.count += len(data)
        now = time.monotonic()
        if self.deadline is not None and now > self.deadline and data:
            raise RemoteError(f"{self.what}: not finished within the deadline")
        elapsed = now - self.start
        if data and elapsed > self.policy.rate_window and self.count < self.policy.min_rate * elapsed:
            raise RemoteError(f"{self.what}: slower than {self.policy.min_rate} bytes/s")
        view[:len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.resp.close()
        finally:
            super().close()


def _redact(url: str) -> str:
    return url.split("?", 1)[0]


def _error_text(body: bytes) -> str:
    """The first error of an OCI error body, if the body is one (a list, a string, junk: nothing)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code, message = errors[0].get("code", ""), errors[0].get("message", "")
        return f" ({str(code)[:100]}: {str(message)[:200]})"
    return ""
