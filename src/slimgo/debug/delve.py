"""Delve for the target platform, built once per (version, platform, toolchain) and cached.

Delve is compiled from the Go module proxy like any `module@version` target, with slimgo's default flags
(CGO_ENABLED=0, -trimpath, -s -w), so the binary is static and byte-identical for every
service: its layer is one shared blob. A build takes 1-2 minutes per platform, which is why the binary
is cached content-addressed and verified on every read.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import BadInput
from ..gobuild.build import compile_binary
from ..gobuild.target import Target
from ..gobuild.toolchain import Toolchain
from ..oci.cache import LayerCache
from ..platform import Platform
from ..strategy import DEFAULT

PACKAGE = "github.com/go-delve/delve/cmd/dlv"
# Pinned: the newest release the module proxy serves that debugs the toolchain this project tests with
# (go1.26). Override with --delve-version / build.delve_version.
VERSION = "v1.27.2"
# Delve's native Linux backend exists for these architectures only.
SUPPORTED_ARCHES = ("amd64", "arm64", "386", "ppc64le")
_VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.\-]+)?$")


def check(version: str, platforms: list[Platform]) -> None:
    """Refuse what cannot work before anything is compiled."""
    if not _VERSION_RE.match(version):
        raise BadInput(f"Delve version {version!r} is not a release version like {VERSION}")
    for p in platforms:
        if p.arch not in SUPPORTED_ARCHES:
            raise BadInput(f"--debug: Delve does not support {p} (it debugs linux/{', linux/'.join(SUPPORTED_ARCHES)})")


def cache_key(version: str, platform: Platform, toolchain: Toolchain) -> str:
    flags = DEFAULT.flags.command_line()
    raw = f"dlv-{version}-{platform}-{toolchain.version}-{flags}"
    return re.sub(r"[^A-Za-z0-9.\-]+", "_", raw)


def delve_binary(toolchain: Toolchain, version: str, platform: Platform, cache: LayerCache | None,
                 work: Path) -> Path:
    """The dlv binary for `platform`: from the cache, else compiled through the module proxy and stored."""
    key = cache_key(version, platform, toolchain)
    if cache is not None:
        hit = cache.get_file(key)
        if hit is not None:
            return hit
    target = Target(package=PACKAGE, name="dlv", version=version)
    built = compile_binary(toolchain, target, DEFAULT.flags, platform, work)
    return cache.put_file(key, built.path) if cache is not None else built.path
