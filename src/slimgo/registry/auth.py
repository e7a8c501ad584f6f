"""Credentials for a registry: explicit flags, then ~/.docker/config.json (`auths`, `credHelpers`,
`credsStore` via the docker-credential-* helper protocol), else anonymous; and the answer to its 401
challenges (basic, or a bearer token from the challenged realm).

`describe()` names the source that was tried, for error messages; no secret ever leaves this module
except inside an Authorization header.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from urllib.parse import urlencode, urlsplit

from ..errors import BadInput, RemoteError
from ..limits import MAX_TOKEN
from .transport import Retryable, Transport


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str = field(repr=False)

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def docker_config_path() -> Path:
    root = os.environ.get("DOCKER_CONFIG")
    return Path(root) / "config.json" if root else Path.home() / ".docker" / "config.json"


def _host_keys(host: str) -> list[str]:
    keys = [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]
    if host in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        keys.append("https://index.docker.io/v1/")
    return keys


@dataclass
class CredentialSource:
    explicit: Credentials | None = None
    config_path: Path = field(default_factory=docker_config_path)
    _cache: dict[str, tuple[Credentials | None, str]] = field(default_factory=dict, repr=False)

    def lookup(self, host: str) -> Credentials | None:
        return self._resolve(host)[0]

    def describe(self, host: str) -> str:
        return self._resolve(host)[1]

    def _resolve(self, host: str) -> tuple[Credentials | None, str]:
        if host in self._cache:
            return self._cache[host]
        result = self._find(host)
        self._cache[host] = result
        return result

    def _find(self, host: str) -> tuple[Credentials | None, str]:
        if self.explicit is not None:
            return self.explicit, "credentials from --username/--password-stdin"
        path = self.config_path
        if not path.is_file():
            return None, f"anonymous (no {path.name} at the Docker config path)"
        try:
            cfg = json.loads(path.read_text())
        except (OSError, ValueError):
            raise BadInput(f"{path}: not a readable Docker config file") from None
        helpers = cfg.get("credHelpers") or {}
        for key in _host_keys(host):
            if key in helpers:
                return self._helper(helpers[key], host), f"docker-credential-{helpers[key]} (credHelpers)"
        auths = cfg.get("auths") or {}
        for key in _host_keys(host):
            entry = auths.get(key)
            if entry and entry.get("auth"):
                try:
                    user, _, secret = base64.b64decode(entry["auth"]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    raise BadInput(f"{path}: the auths entry for {host} is not base64 user:password") from None
                return Credentials(user, secret), f"auths entry in {path.name}"
        if cfg.get("credsStore"):
            store = cfg["credsStore"]
            creds = self._helper(store, host, missing_ok=True)
            if creds is not None:
                return creds, f"docker-credential-{store} (credsStore)"
        return None, f"anonymous (no entry for {host} in {path.name})"

    @staticmethod
    def _helper(name: str, host: str, missing_ok: bool = False) -> Credentials | None:
        exe = f"docker-credential-{name}"
        try:
            proc = subprocess.run([exe, "get"], input=host, capture_output=True, text=True, timeout=30)
        except FileNotFoundError:
            if missing_ok:
                return None
            raise BadInput(f"credential helper {exe} is not installed") from None
        except subprocess.TimeoutExpired:
            raise BadInput(f"credential helper {exe} did not answer") from None
        if proc.returncode != 0:
            if missing_ok or "credentials not found" in (proc.stdout + proc.stderr).lower():
                return None
            raise BadInput(f"credential helper {exe} failed for {host}")
        try:
            doc = json.loads(proc.stdout)
            return Credentials(str(doc["Username"]), str(doc["Secret"]))
        except (ValueError, KeyError):
            raise BadInput(f"credential helper {exe} gave an unreadable answer") from None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Scheme k="v", k2=v2`; items without `=` are ignored (the registry is untrusted: a malformed
    challenge must not crash the client)."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for item in _parse_http_list(rest) if rest else []:
        key, sep, value = item.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[key.strip().lower()] = value
    return scheme.lower(), params


class Authenticator:
    """Answers a registry's 401 challenge and gives the Authorization header for a scope.

    Credentials go to two places only: the registry's own host (the transport checks each URL), and the
    token realm the registry challenged with. A realm that is not https is refused unless the registry
    itself is reached over plain HTTP (loopback or --insecure-registry), so a challenge cannot send a
    password in clear text to some other host. The token answer is read with a 1 MiB limit.
    """

    def __init__(self, transport: Transport, credentials: CredentialSource | None) -> None:
        self.transport = transport
        self.credentials = credentials
        self._tokens: dict[str, str] = {}
        self._basic = False
        self._lock = Lock()
        transport.auth_header = self.header
        transport.on_challenge = self.answer
        transport.auth_source = self._source

    @property
    def host(self) -> str:
        return self.transport.host

    def _creds(self) -> Credentials | None:
        return self.credentials.lookup(self.host) if self.credentials else None

    def _source(self) -> str:
        return self.credentials.describe(self.host) if self.credentials else "no credentials"

    def header(self, scope: str) -> dict[str, str]:
        with self._lock:
            token = self._tokens.get(scope) or self._covering(scope)
            basic = self._basic
        if token:
            return {"Authorization": f"Bearer {token}"}
        if basic:
            creds = self._creds()
            if creds:
                return {"Authorization": creds.basic_header()}
        return {}

    def _covering(self, scope: str) -> str | None:
        """A token already held for a wider scope (push covers pull; a mount's token covers its target), so a
        repository costs one token, not one per kind of request. Should the registry have granted less than
        was asked, the request is challenged and a token for its own scope is fetched then."""
        wanted = _grants(scope)
        if not wanted:
            return None
        for held, token in self._tokens.items():
            if wanted <= _grants(held):
                return token
        return None

    def answer(self, challenge: str, scope: str) -> None:
        from .transport import AuthError

        scheme, params = parse_challenge(challenge)
        creds = self._creds()
        if scheme == "basic":
            if creds is None:
                raise AuthError(f"{self.host}: authentication required ({self._source()})")
            with self._lock:
                self._basic = True
            return
        if scheme != "bearer" or "realm" not in params:
            raise AuthError(f"{self.host}: unsupported authentication challenge {scheme[:40]!r}")
        realm = params["realm"]
        parts = urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise AuthError(f"{self.host}: token realm {realm[:200]!r} is not an http(s) URL")
        if parts.scheme == "http" and self.transport.scheme != "http":
            raise AuthError(f"{self.host}: token realm {realm[:200]!r} is plain HTTP; refused for an https "
                            "registry")
        query = [("service", params.get("service", ""))] + [("scope", s) for s in scope.split()]
        headers = {"Authorization": creds.basic_header()} if creds else {}
        url = realm + ("&" if "?" in realm else "?") + urlencode(query, doseq=True)
        deadline = time.monotonic() + self.transport.policy.deadline
        try:
            resp = self.transport._send("GET", url, deadline, headers=headers, stream=True,
                                        allow_redirects=False)
        except Retryable as exc:
            raise RemoteError(f"token endpoint: {exc}") from None
        if resp.status_code in (401, 403):
            resp.close()
            raise AuthError(f"{self.host}: token endpoint refused the credentials ({self._source()})")
        if resp.status_code != 200:
            resp.close()
            if resp.status_code >= 500:
                raise RemoteError(f"{self.host}: token endpoint answered {resp.status_code}")
            raise AuthError(f"{self.host}: token endpoint answered {resp.status_code}")
        body = self.transport.read_body(resp, MAX_TOKEN, "token answer", deadline)
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            raise AuthError(f"{self.host}: token endpoint did not answer JSON") from None
        token = (doc.get("token") or doc.get("access_token")) if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token or not token.isprintable():
            raise AuthError(f"{self.host}: token endpoint gave no usable token")
        with self._lock:
            self._tokens[scope] = token


def _parse_http_list(text: str) -> list[str]:
    from urllib.request import parse_http_list  # ~15 ms (http.client, ssl): only when a registry challenges

    return parse_http_list(text)


def _grants(scope: str) -> set[tuple[str, str]]:
    """`repository:NAME:pull,push …` as (NAME, action) pairs; anything else as nothing."""
    out: set[tuple[str, str]] = set()
    for item in scope.split():
        kind, _, rest = item.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind != "repository" or not name:
            return set()
        out |= {(name, a) for a in actions.split(",") if a}
    return out
