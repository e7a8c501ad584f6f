"""`--builder ADDRESS` → the arguments `buildctl` connects with.

Accepted forms: `buildkit://HOST:PORT` (slimgo's spelling of a plain TCP daemon), every address buildctl
itself takes (`tcp://`, `unix://`, `docker-container://`, `podman-container://`, `nerdctl-container://`,
`kube-pod://`, `ssh://`), and the address of a buildx `remote` driver builder with its TLS driver options
as a query: `tcp://host:1234?cacert=ca.pem&cert=cert.pem&key=key.pem&servername=buildkitd`, the names
`docker buildx create --driver remote --driver-opt cacert=…,cert=…,key=…,servername=…` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ..errors import BadInput

SCHEMES = ("tcp", "unix", "docker-container", "podman-container", "nerdctl-container", "kube-pod", "ssh")
# buildx remote driver option → buildctl flag
TLS_OPTIONS = {"cacert": "--tlscacert", "cert": "--tlscert", "key": "--tlskey", "servername": "--tlsservername"}


@dataclass(frozen=True)
class BuilderAddress:
    given: str  # as the user wrote it, for messages
    addr: str  # what buildctl --addr receives
    tls: tuple[tuple[str, str], ...] = ()  # (buildctl flag, value)

    def buildctl_args(self) -> list[str]:
        out = ["--addr", self.addr]
        for flag, value in self.tls:
            out += [flag, value]
        return out


def parse(given: str) -> BuilderAddress:
    text = given.strip()
    if "://" not in text:
        raise BadInput(f"--builder {given!r}: expected buildkit://HOST:PORT, tcp://HOST:PORT, unix:///PATH or "
                       "another buildctl address (docker-container://NAME, kube-pod://POD, ssh://HOST)")
    scheme, rest = text.split("://", 1)
    scheme = written = scheme.lower()  # `written`: errors quote the scheme the user typed, not its alias
    if scheme == "buildkit":
        scheme = "tcp"
    if scheme not in SCHEMES:
        raise BadInput(f"--builder {given!r}: unknown scheme {scheme}:// (expected buildkit, "
                       f"{', '.join(SCHEMES)})")
    base, _, query = rest.partition("?")
    if not base.strip("/"):
        raise BadInput(f"--builder {given!r}: no host, path or name after {written}://")
    if scheme == "tcp":
        parts = urlsplit(f"tcp://{base}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None or parts.path not in ("", "/"):
            raise BadInput(f"--builder {given!r}: a TCP builder needs HOST:PORT (e.g. buildkit://buildkitd:1234)")
    tls, passed = [], []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in TLS_OPTIONS:
            if scheme == "tcp":
                raise BadInput(f"--builder {given!r}: unknown option {key!r} (expected {', '.join(TLS_OPTIONS)})")
            passed.append(f"{key}={value}")  # the connection helper's own (kube-pod://POD?namespace=…)
            continue
        if key != "servername" and not Path(value).is_file():
            raise BadInput(f"--builder {given!r}: {key}={value}: no such file")
        tls.append((TLS_OPTIONS[key], value))
    addr = f"{scheme}://{base}" + (f"?{'&'.join(passed)}" if passed else "")
    return BuilderAddress(given, addr, tuple(tls))
