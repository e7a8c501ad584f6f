"""The embedded `static` base, built offline from data slimgo depends on.

Contents follow distroless/static: users root/nonroot/nobody, nsswitch, the Mozilla CA bundle (certifi),
IANA zoneinfo (the tzdata package), /tmp 1777, /home/nonroot, os-release. The data packages' versions are
recorded in labels so users can see how old the roots and zones are.

The base layer depends only on which parts are included, never on the program or SOURCE_DATE_EPOCH,
so registries store it once for every service built on it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi

from ..epoch import EPOCH_ZERO
from ..oci.layer import Entry, dir_entry, file_entry

PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUP = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
NSSWITCH = "passwd: files\ngroup: files\nhosts: files dns\n"
CA_PATH = "etc/ssl/certs/ca-certificates.crt"
ZONEINFO_DIR = "usr/share/zoneinfo"
ZONEINFO_SKIP = {"tzdata.zi", "leapseconds", "zonenow.tab"}
NONROOT = "65532:65532"
PATH_ENV = "PATH=/usr/local/bin:/usr/bin:/bin:/app"
FORMAT_VERSION = "1"  # bump when the file list or modes change: it is part of the cache key


@dataclass(frozen=True)
class StaticBaseSpec:
    """Which optional parts the base carries; `slimgo analyze`'s needs decide these."""

    ca_roots: bool = True
    zoneinfo: bool = True

    @property
    def name(self) -> str:
        parts = [p for p, on in (("ca", self.ca_roots), ("tz", self.zoneinfo)) if on]
        return "static" + ("" if parts == ["ca", "tz"] else "-" + ("-".join(parts) or "minimal"))


def data_versions() -> dict[str, str]:
    import tzdata

    return {
        "ca-bundle": f"certifi {certifi.__version__}",
        "tzdata": f"IANA {tzdata.IANA_VERSION} (tzdata {tzdata.__version__})",
    }


def _zoneinfo_entries() -> list[Entry]:
    """Zone files with identical content become hard links to the first: many zones are aliases."""
    root = importlib.resources.files("tzdata") / "zoneinfo"
    found: list[tuple[str, bytes]] = []

    def walk(node: Any, rel: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            name = child.name
            if name.startswith("__") or name.endswith(".py") or name in ZONEINFO_SKIP:
                continue
            path = f"{rel}/{name}"
            if child.is_dir():
                walk(child, path)
            else:
                found.append((path, child.read_bytes()))

    walk(root, ZONEINFO_DIR)
    found.sort(key=lambda item: item[0].split("/"))
    first_of: dict[str, str] = {}
    out: list[Entry] = []
    for path, data in found:
        key = hashlib.sha256(data).hexdigest()
        if key in first_of:
            out.append(Entry(path, "hardlink", 0o644, linkname=first_of[key]))
        else:
            first_of[key] = path
            out.append(file_entry(path, data))
    return out


def entries(spec: StaticBaseSpec) -> list[Entry]:
    os_release = (
        'NAME="slimgo static"\nID=slimgo-static\n'
        f'VERSION_ID="{FORMAT_VERSION}"\nPRETTY_NAME="slimgo static base ({spec.name})"\n'
        'HOME_URL="https://pkg.go.dev/"\n'
    )
    out = [
        dir_entry("etc"),
        file_entry("etc/passwd", PASSWD.encode()),
        file_entry("etc/group", GROUP.encode()),
        file_entry("etc/nsswitch.conf", NSSWITCH.encode()),
        file_entry("etc/os-release", os_release.encode()),
        dir_entry("tmp", 0o1777),
        dir_entry("root", 0o700),
        dir_entry("home"),
        dir_entry("home/nonroot", 0o700, 65532, 65532),
    ]
    if spec.ca_roots:
        out.append(file_entry(CA_PATH, Path(certifi.where()).read_bytes()))
    if spec.zoneinfo:
        out.extend(_zoneinfo_entries())
    return out


def cache_key(spec: StaticBaseSpec) -> str:
    versions = data_versions()
    return hashlib.sha256(
        f"{FORMAT_VERSION}|{spec}|{versions['ca-bundle']}|{versions['tzdata']}".encode()).hexdigest()[:32]


def config(spec: StaticBaseSpec, platform: dict[str, str]) -> dict[str, Any]:
    env = [PATH_ENV]
    if spec.ca_roots:
        env.append(f"SSL_CERT_FILE=/{CA_PATH}")
    labels = {"org.opencontainers.image.title": f"slimgo {spec.name} base"}
    for key, value in data_versions().items():
        if (key == "ca-bundle" and spec.ca_roots) or (key == "tzdata" and spec.zoneinfo):
            labels[f"dev.slimgo.base.{key}"] = value
    return {
        **platform,
        "created": EPOCH_ZERO,
        "config": {"User": NONROOT, "WorkingDir": "/home/nonroot", "Env": env, "Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created": EPOCH_ZERO, "created_by": f"slimgo {spec.name} base",
                     "comment": ", ".join(f"{k}: {v}" for k, v in data_versions().items())}],
    }
