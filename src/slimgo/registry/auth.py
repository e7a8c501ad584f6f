"""Credentials for a registry: explicit flags, then ~/.docker/config.json (`auths`, `credHelpers`,
`credsStore` via the docker-credential-* helper protocol), else anonymous.

`describe()` names the source that was tried, for error messages; no secret ever leaves this module
except inside an Authorization header.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInput


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
