"""The attack surface an image ships: tools an intruder would use, risky permissions, who the process
runs as, what it listens on, and secrets (by name and location only: a secret's value is never kept
or printed)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from .fs import FileSystem
from .model import DIR, FILE, HARDLINK, NOT_WHITEOUT, SYMLINK, ImageScan

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "toybox"})
PACKAGE_MANAGERS = frozenset({"apt", "apt-get", "dpkg", "apk", "yum", "dnf", "microdnf", "rpm", "zypper", "pacman",
                              "pip", "pip3", "npm", "yarn", "gem", "conda"})
INTERPRETER = re.compile(r"^(python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|lua[0-9.]*|java|"
                         r"tclsh[0-9.]*|wish[0-9.]*|Rscript|pwsh|deno|bun)$")
BIN_DIRS = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/")
SECRET_NAMES = {
    "id_rsa": "SSH private key", "id_dsa": "SSH private key", "id_ecdsa": "SSH private key",
    "id_ed25519": "SSH private key", ".env": "dotenv file", ".netrc": "netrc credentials",
    ".git-credentials": "git credentials", ".pgpass": "PostgreSQL password file", ".npmrc": "npm token file",
    ".pypirc": "PyPI credentials", "credentials.json": "cloud credentials",
    "application_default_credentials.json": "Google Cloud credentials", ".htpasswd": "htpasswd file",
}
SECRET_PATHS = {"/.aws/credentials": "AWS credentials", "/.docker/config.json": "registry credentials",
                "/.kube/config": "Kubernetes credentials", "/.config/gcloud/credentials.db": "Google Cloud credentials",
                "/.ssh/id_rsa": "SSH private key"}
SECRET_SUFFIXES = {".pem": "PEM file", ".key": "private key file", ".p12": "PKCS#12 bundle", ".pfx": "PKCS#12 bundle",
                   ".jks": "Java keystore", ".keystore": "Java keystore"}
SECRET_VAR = re.compile(r"(?i)(token|secret|passw(or)?d|passwd|api[_-]?key|private[_-]?key|access[_-]?key|"
                        r"credential)")
SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|glpat-[A-Za-z0-9_-]{20}|xox[baprs]-[A-Za-z0-9-]{10,}|"
                          r"-----BEGIN [A-Z ]*PRIVATE KEY-----|sk_live_[A-Za-z0-9]{16,})")
ASSIGN = re.compile(r"(?:^|[\s|;&])([A-Za-z_][A-Za-z0-9_]*)=(\S*)")
SECRET_ASSIGN = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)")
# Files with 'key' in the name that only ever hold public material.
NOT_SECRET_DIRS = ("/usr/share/", "/usr/lib/python", "/etc/ssl/certs/", "/usr/local/go/", "/usr/lib/go")


@dataclass
class Secret:
    kind: str
    location: str  # "layer 2: /root/.ssh/id_rsa", "config Env", "history 3"
    name: str  # the path or variable name; never the value
    deleted: bool = False  # removed by a later layer: still pulled with the image

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "location": self.location, "name": self.name, "deleted_later": self.deleted}


@dataclass
class Surface:
    shells: list[str] = field(default_factory=list)
    package_managers: list[str] = field(default_factory=list)
    interpreters: list[str] = field(default_factory=list)
    setuid: list[str] = field(default_factory=list)
    setgid: list[str] = field(default_factory=list)
    world_writable: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    user: str = ""
    root: bool = True
    numeric_user: bool = False
    user_note: str = ""
    ports: list[str] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"shells": self.shells, "package_managers": self.package_managers, "interpreters": self.interpreters,
                "setuid": self.setuid, "setgid": self.setgid, "world_writable": self.world_writable,
                "capabilities": self.capabilities,
                "user": {"name": self.user, "root": self.root, "numeric": self.numeric_user, "note": self.user_note},
                "exposed_ports": self.ports, "secrets": [s.to_json() for s in self.secrets]}


def users(scan: ImageScan, fs: FileSystem) -> dict[str, int]:
    """The image's /etc/passwd: name -> uid."""
    text = image_text(scan, fs, "/etc/passwd")
    users: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].isdigit():
            users[parts[0]] = int(parts[2])
    return users


def image_text(scan: ImageScan, fs: FileSystem, path: str) -> str:
    """A small config file's text as the image has it (symlinks followed), "" if absent or not kept."""
    real = fs.resolve(path)
    e = fs.entries.get(real) if real else None
    if e is None or real is None:
        return ""
    return scan.layers[e.layer].texts.get(real, b"").decode("utf-8", "replace")


def _user(surface: Surface, fs: FileSystem, scan: ImageScan) -> None:
    user = str((scan.config.get("config") or {}).get("User") or "")
    surface.user = user
    name = user.split(":", 1)[0]
    if name == "":
        surface.root, surface.numeric_user, surface.user_note = True, True, "no USER: runs as root (uid 0)"
    elif name.isdigit():
        surface.root, surface.numeric_user = int(name) == 0, True
    else:
        uid = users(scan, fs).get(name)
        surface.root = name == "root" or uid == 0
        if uid is None and name != "root":
            surface.user_note = f"user {name!r} is not in the image's /etc/passwd: the container will not start"
        else:
            surface.user_note = f"named user (uid {uid if uid is not None else 0}); Kubernetes runAsNonRoot needs a " \
                                "numeric USER"


def _secret_file(path: str) -> str | None:
    base = posixpath.basename(path)
    for tail, kind in SECRET_PATHS.items():
        if path.endswith(tail):
            return kind
    if base in SECRET_NAMES:
        return SECRET_NAMES[base]
    if base.startswith(".env.") and not base.endswith((".example", ".sample", ".template")):
        return "dotenv file"
    if path.startswith(NOT_SECRET_DIRS):
        return None
    for suffix, kind in SECRET_SUFFIXES.items():
        if base.endswith(suffix):
            return kind
    return None


def redact(text: str) -> str:
    """A history line fit to print: values of secret-looking variables and credential-shaped strings removed."""
    text = SECRET_ASSIGN.sub(lambda m: f"{m.group(1)}=<redacted>" if SECRET_VAR.search(m.group(1)) else m.group(0),
                             text)
    return SECRET_VALUE.sub("<redacted>", text)


def _secrets(scan: ImageScan, fs: FileSystem) -> list[Secret]:
    out: list[Secret] = []
    # Test keys that ship with a Go toolchain or a module (crypto/tls/testdata, ...) are public fixtures.
    goroots = tuple(fs.goroots())

    def fixture(path: str) -> bool:
        return path.startswith(goroots) or "/pkg/mod/" in path or "/testdata/" in path

    for layer in scan.layers:
        for e in layer.entries:
            if e.kind != FILE or e.whiteout != NOT_WHITEOUT or fixture(e.path):
                continue
            kind = "PEM private key" if e.path in layer.private_keys else _secret_file(e.path)
            if kind is None or (kind in ("PEM file",) and e.path not in layer.private_keys):
                continue
            live = fs.entries.get(e.path)
            out.append(Secret(kind, f"layer {layer.index}", e.path, deleted=live is None or live.layer != e.layer))
    env = (scan.config.get("config") or {}).get("Env") or []
    for item in env:
        key, _, value = str(item).partition("=")
        if value and (SECRET_VAR.search(key) or SECRET_VALUE.search(value)):
            out.append(Secret("secret in ENV", "config Env", key))
    for i, h in enumerate(scan.config.get("history") or []):
        text = str((h or {}).get("created_by", "")) if isinstance(h, dict) else ""
        for key, value in ASSIGN.findall(text):
            if value and SECRET_VAR.search(key):
                out.append(Secret("secret in build history", f"history {i}", key))
        if SECRET_VALUE.search(text):
            out.append(Secret("secret in build history", f"history {i}", "a credential-shaped string"))
    return out


def surface(scan: ImageScan, fs: FileSystem) -> Surface:
    s = Surface()
    for path, e in sorted(fs.entries.items()):
        base = posixpath.basename(path)
        if e.kind in (FILE, SYMLINK, HARDLINK) and path.startswith(BIN_DIRS):
            if base in SHELLS:
                s.shells.append(path)
            elif base in PACKAGE_MANAGERS:
                s.package_managers.append(path)
            elif INTERPRETER.match(base):
                s.interpreters.append(path)
        if e.kind == FILE and e.mode & 0o4000:
            s.setuid.append(path)
        if e.kind == FILE and e.mode & 0o2000:
            s.setgid.append(path)
        if e.kind != SYMLINK and e.mode & 0o002 and not (e.kind == DIR and e.mode & 0o1000):
            s.world_writable.append(path)
        if e.caps:
            s.capabilities.append(path)
    _user(s, fs, scan)
    s.ports = sorted(((scan.config.get("config") or {}).get("ExposedPorts") or {}).keys())
    s.secrets = _secrets(scan, fs)
    return s
