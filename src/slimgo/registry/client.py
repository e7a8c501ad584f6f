"""A thin client of the OCI distribution spec.

What a registry client is judged by: nothing uploaded twice (HEAD first, cross-repository mount),
nothing half-pushed (manifests only after every blob they name), clear auth errors (which registry, which
credential source), retries with backoff on connection errors, 429 and 5xx, and no credential in any output.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import IO, Any, Callable
from urllib.parse import urlencode, urljoin

import requests

from ..errors import BadInput, ImageFormatError
from .auth import Credentials, CredentialSource

RETRY_STATUS = {429, 500, 502, 503, 504}
CHUNK_THRESHOLD = 16 << 20  # blobs above this go up in chunks
CHUNK_SIZE = 8 << 20
MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


class RegistryError(BadInput):
    """A registry refused or failed a request. Messages name the registry, never a credential."""


class AuthError(RegistryError):
    pass


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
    retries: int = 0
    _lock: Lock = field(default_factory=Lock, repr=False)

    def add(self, **kw: int) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def to_json(self) -> dict[str, int]:
        return {"uploaded_blobs": self.uploaded, "uploaded_bytes": self.uploaded_bytes,
                "skipped_blobs": self.skipped, "mounted_blobs": self.mounted, "retries": self.retries}


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest)) if rest else {}
    return scheme.lower(), {k.lower(): v for k, v in params.items()}


class Registry:
    """One registry host. Thread-safe enough for parallel blob uploads (one session per thread is not
    needed: requests' Session is shared, tokens are cached under a lock)."""

    def __init__(self, host: str, *, insecure: bool = False, credentials: CredentialSource | None = None,
                 max_tries: int = 6, backoff: float = 0.2, timeout: float = 60.0,
                 stats: PushStats | None = None) -> None:
        self.host = host
        self.scheme = "http" if insecure or is_loopback(host) else "https"
        self.base = f"{self.scheme}://{host}"
        self.session = requests.Session()
        self.credentials = credentials
        self.max_tries = max_tries
        self.backoff = backoff
        self.timeout = timeout
        self.stats = stats or PushStats()
        self._tokens: dict[str, str] = {}
        self._basic: bool = False
        self._lock = Lock()
        # Where each blob already is on this host: a later push to another repository mounts it from there
        # (the programs of one `build ./...` share base layers). One lock per digest, so two workers pushing
        # the same blob upload it once and the second one mounts it.
        self._holders: dict[str, str] = {}
        self._blob_locks: dict[str, Lock] = {}

    # ---- auth -------------------------------------------------------------------------------------
    def _creds(self) -> Credentials | None:
        return self.credentials.lookup(self.host) if self.credentials else None

    def _auth_header(self, scope: str) -> dict[str, str]:
        with self._lock:
            token = self._tokens.get(scope)
            basic = self._basic
        if token:
            return {"Authorization": f"Bearer {token}"}
        if basic:
            creds = self._creds()
            if creds:
                return {"Authorization": creds.basic_header()}
        return {}

    def _authenticate(self, challenge: str, scope: str) -> None:
        scheme, params = _parse_challenge(challenge)
        creds = self._creds()
        source = self.credentials.describe(self.host) if self.credentials else "no credentials"
        if scheme == "basic":
            if creds is None:
                raise AuthError(f"{self.host}: authentication required ({source})")
            with self._lock:
                self._basic = True
            return
        if scheme != "bearer" or "realm" not in params:
            raise AuthError(f"{self.host}: unsupported authentication challenge {scheme!r}")
        query = [("service", params.get("service", ""))] + [("scope", s) for s in scope.split()]
        headers = {"Authorization": creds.basic_header()} if creds else {}
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + urlencode(query, doseq=True)
        try:
            resp = self.session.get(url, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise AuthError(f"{self.host}: token endpoint unreachable ({type(exc).__name__})") from None
        if resp.status_code in (401, 403):
            raise AuthError(f"{self.host}: token endpoint refused the credentials ({source})")
        if resp.status_code != 200:
            raise AuthError(f"{self.host}: token endpoint answered {resp.status_code}")
        try:
            doc = resp.json()
        except ValueError:
            raise AuthError(f"{self.host}: token endpoint did not answer JSON") from None
        token = doc.get("token") or doc.get("access_token")
        if not token:
            raise AuthError(f"{self.host}: token endpoint gave no token")
        with self._lock:
            self._tokens[scope] = str(token)

    # ---- requests with retries ----------------------------------------------------------------------
    def request(self, method: str, path_or_url: str, *, scope: str = "", ok: tuple[int, ...] = (200,),
                data: bytes | Callable[[], Any] | None = None, headers: dict[str, str] | None = None,
                stream: bool = False, allow: tuple[int, ...] = ()) -> requests.Response:
        url = path_or_url if path_or_url.startswith("http") else self.base + path_or_url
        attempt, authed = 0, False
        while True:
            attempt += 1
            body = data() if callable(data) else data
            try:
                resp = self.session.request(method, url, data=body, stream=stream, timeout=self.timeout,
                                            headers={**(headers or {}), **self._auth_header(scope)},
                                            allow_redirects=True)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                if attempt >= self.max_tries:
                    raise RegistryError(f"{self.host}: connection failed after {attempt} tries "
                                        f"({type(exc).__name__})") from None
                self._sleep(attempt)
                continue
            if resp.status_code == 401 and not authed:
                authed = True
                self._authenticate(resp.headers.get("WWW-Authenticate", ""), scope)
                attempt -= 1
                continue
            if resp.status_code in RETRY_STATUS and attempt < self.max_tries:
                retry_after = resp.headers.get("Retry-After", "")
                self._sleep(attempt, float(retry_after) if retry_after.isdigit() else None)
                continue
            if resp.status_code in ok or resp.status_code in allow:
                return resp
            if resp.status_code == 401:
                source = self.credentials.describe(self.host) if self.credentials else "no credentials"
                raise AuthError(f"{self.host}: authentication refused ({source})")
            if resp.status_code == 403:
                raise AuthError(f"{self.host}: access denied to {scope or path_or_url}")
            raise RegistryError(f"{self.host}: {method} {_redact(url)} answered {resp.status_code}"
                                f"{_error_text(resp)}")

    def _sleep(self, attempt: int, hint: float | None = None) -> None:
        self.stats.add(retries=1)
        time.sleep(min(hint if hint is not None else self.backoff * 2 ** (attempt - 1), 10.0))

    def ping(self, repo: str) -> None:
        """Reach the registry and authenticate for pushing to repo, before any work is done."""
        self.request("HEAD", f"/v2/{repo}/blobs/sha256:{'0' * 64}", scope=f"repository:{repo}:pull,push",
                     allow=(404,))

    # ---- reading ------------------------------------------------------------------------------------
    def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str, str]:
        resp = self.request("GET", f"/v2/{repo}/manifests/{ref}", scope=f"repository:{repo}:pull",
                            headers={"Accept": MANIFEST_ACCEPT}, allow=(404,))
        if resp.status_code == 404:
            raise RegistryError(f"{self.host}/{repo}:{ref}: manifest unknown")
        body = resp.content
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.startswith("sha256:") and digest != ref:
            raise ImageFormatError(f"{self.host}/{repo}@{ref}: digest mismatch on the manifest")
        media = resp.headers.get("Content-Type", "").split(";")[0]
        if not media:
            media = str(json.loads(body).get("mediaType", ""))
        return body, media, digest

    def get_blob(self, repo: str, digest: str, dest: Path) -> Path:
        """Download a blob to dest, verifying its digest; a mismatch leaves nothing behind."""
        resp = self.request("GET", f"/v2/{repo}/blobs/{digest}", scope=f"repository:{repo}:pull", stream=True)
        h = hashlib.sha256()
        tmp = dest.with_name(dest.name + ".part")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(tmp, "wb") as fh:
                for chunk in resp.iter_content(1 << 20):
                    h.update(chunk)
                    fh.write(chunk)
            if "sha256:" + h.hexdigest() != digest:
                raise ImageFormatError(f"{self.host}/{repo}: blob {digest} failed its digest check")
            tmp.replace(dest)
        finally:
            if tmp.exists():
                tmp.unlink()
        return dest

    # ---- writing ------------------------------------------------------------------------------------
    def blob_exists(self, repo: str, digest: str) -> bool:
        resp = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", scope=f"repository:{repo}:pull,push",
                            allow=(404,))
        return resp.status_code == 200

    def push_blob(self, repo: str, digest: str, size: int, open_blob: Callable[[], IO[bytes]],
                  mount_from: str | None = None) -> str:
        """Make the blob present in repo: 'skipped' (already there), 'mounted' or 'uploaded'."""
        with self._lock:
            blob_lock = self._blob_locks.setdefault(digest, Lock())
        with blob_lock:
            how = self._push_blob(repo, digest, size, open_blob, mount_from or self._holders.get(digest))
            self._holders.setdefault(digest, repo)
            return how

    def _push_blob(self, repo: str, digest: str, size: int, open_blob: Callable[[], IO[bytes]],
                   mount_from: str | None) -> str:
        scope = f"repository:{repo}:pull,push"
        if self.blob_exists(repo, digest):
            self.stats.add(skipped=1)
            return "skipped"
        if mount_from and mount_from != repo:
            resp = self.request("POST", f"/v2/{repo}/blobs/uploads/?mount={digest}&from={mount_from}",
                                scope=f"{scope} repository:{mount_from}:pull", ok=(201, 202))
            if resp.status_code == 201:
                self.stats.add(mounted=1)
                return "mounted"
        for attempt in range(1, self.max_tries + 1):
            try:
                self._upload(repo, digest, size, open_blob, scope)
                self.stats.add(uploaded=1, uploaded_bytes=size)
                return "uploaded"
            except RegistryError:
                # A dropped upload session cannot be resumed reliably: start a new one, unless the
                # registry got it after all.
                if self.blob_exists(repo, digest):
                    self.stats.add(uploaded=1, uploaded_bytes=size)
                    return "uploaded"
                if attempt == self.max_tries:
                    raise
                self._sleep(attempt)
        raise RegistryError(f"{self.host}: upload of {digest} failed")  # pragma: no cover

    def _upload(self, repo: str, digest: str, size: int, open_blob: Callable[[], IO[bytes]], scope: str) -> None:
        start = self.request("POST", f"/v2/{repo}/blobs/uploads/", scope=scope, ok=(202,))
        location = urljoin(self.base + "/", start.headers["Location"])
        if size <= CHUNK_THRESHOLD:
            with open_blob() as fh:
                payload = fh.read()
            self.request("PUT", _with_query(location, digest=digest), scope=scope, ok=(201,), data=payload,
                         headers={"Content-Type": "application/octet-stream"})
            return
        offset = 0
        with open_blob() as fh:
            while True:
                chunk = fh.read(CHUNK_SIZE)
                if not chunk:
                    break
                resp = self.request("PATCH", location, scope=scope, ok=(202,), data=chunk, headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                    "Content-Length": str(len(chunk))})
                location = urljoin(self.base + "/", resp.headers.get("Location", location))
                offset += len(chunk)
        self.request("PUT", _with_query(location, digest=digest), scope=scope, ok=(201,), data=b"")

    def put_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        resp = self.request("PUT", f"/v2/{repo}/manifests/{ref}", scope=f"repository:{repo}:pull,push",
                            ok=(201,), data=body, headers={"Content-Type": media_type})
        return resp.headers.get("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())


def _with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _redact(url: str) -> str:
    return url.split("?", 1)[0]


def _error_text(resp: requests.Response) -> str:
    try:
        errors = resp.json().get("errors") or []
        if errors:
            return f" ({errors[0].get('code', '')}: {errors[0].get('message', '')})"
    except ValueError:
        pass
    return ""
