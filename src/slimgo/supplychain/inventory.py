"""What went into one platform image, from facts slimgo already holds: the binary's Go build info and the base.

Nothing is scanned: the build info lists every linked module with its go.sum hash, and the static base
records its data packages' versions in labels. Both SBOM formats and the provenance are rendered from this.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from ..base.model import Base
from ..binary.buildinfo import BuildInfo, Module

DEVEL = "(devel)"
STATIC_LABELS = {"dev.slimgo.base.ca-bundle": "certifi", "dev.slimgo.base.tzdata": "tzdata"}
_PYPI_VERSION = {"certifi": re.compile(r"^certifi (\S+)$"), "tzdata": re.compile(r"\(tzdata (\S+)\)$")}


def golang_purl(path: str, version: str) -> str:
    """As syft and the purl spec write Go modules: path segments as the namespace, `@version` unless unknown;
    the toolchain is `stdlib` with the version's `go` prefix dropped (pkg:golang/stdlib@1.26.8)."""
    if path == "stdlib":
        version = version.removeprefix("go")
    name = "/".join(quote(seg, safe="") for seg in path.split("/"))
    return f"pkg:golang/{name}" + (f"@{quote(version, safe='+')}" if version and version != DEVEL else "")


def oci_purl(reference: str, digest: str) -> str:
    """purl-spec's `oci` type: the last name segment, the digest as version, the repository as a qualifier."""
    repo = reference.split("@", 1)[0]
    head, _, last = repo.rpartition("/")
    last = last.split(":", 1)[0]
    repo = f"{head}/{last}" if head else last
    purl = f"pkg:oci/{quote(last.lower(), safe='')}@{quote(digest, safe='')}"
    return purl + (f"?repository_url={quote(repo, safe='/:')}" if head else "")


def h1_sha256(h1: str) -> str:
    """go.sum's `h1:` hash is base64 SHA-256 (of the module's dirhash); SBOMs carry it as hex SHA-256."""
    if not h1.startswith("h1:"):
        return ""
    try:
        raw = base64.b64decode(h1[3:], validate=True)
    except (binascii.Error, ValueError):
        return ""
    return raw.hex() if len(raw) == 32 else ""


@dataclass(frozen=True)
class GoModule:
    path: str
    version: str
    h1: str = ""

    @property
    def purl(self) -> str:
        return golang_purl(self.path, self.version)

    @property
    def sha256(self) -> str:
        return h1_sha256(self.h1)

    @classmethod
    def of(cls, mod: Module) -> "GoModule":
        """A replaced module is what was linked: report the replacement (as syft does)."""
        used = mod.replace if mod.replace is not None and mod.replace.version else mod
        return cls(used.path, used.version or mod.version, used.sum or mod.sum)


@dataclass(frozen=True)
class BaseComponent:
    """A data package of the static base, or the remote base image itself (version = its digest)."""

    name: str
    version: str
    purl: str
    comment: str
    sha256: str = ""
    image: bool = False


@dataclass(frozen=True)
class Inventory:
    image_name: str  # the image's repository (first tag), without tag
    image_digest: str  # the platform image's manifest digest: the subject every document describes
    platform: str
    binary: str
    main: GoModule
    deps: tuple[GoModule, ...]
    go_version: str  # e.g. go1.26.8
    settings: tuple[tuple[str, str], ...]
    base: tuple[BaseComponent, ...]
    base_name: str
    base_digest: str

    @property
    def toolchain(self) -> GoModule:
        """The Go standard library and runtime, as syft names them: module `stdlib`, version `go1.x.y`."""
        return GoModule("stdlib", self.go_version.split(" ")[0])

    @property
    def image_purl(self) -> str:
        return oci_purl(self.image_name, self.image_digest)

    @property
    def image_hex(self) -> str:
        return self.image_digest.split(":", 1)[1]

    def setting(self, key: str) -> str:
        return dict(self.settings).get(key, "")

    def stable_uuid(self, kind: str) -> str:
        """A serial number that is a function of the image digest, so the same build gives the same document."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://slimgo.dev/{kind}/{self.image_digest}"))


def base_components(base: Base) -> tuple[BaseComponent, ...]:
    labels = ((base.config.get("config") or {}).get("Labels") or {})
    out = []
    if base.digest:  # the base image itself, by reference and digest (slimgo's own static base has one too)
        hexd = base.digest.split(":", 1)[1] if base.digest.startswith("sha256:") else ""
        out.append(BaseComponent(base.name, base.digest, oci_purl(base.name, base.digest), f"base image {base.name}",
                                 hexd, image=True))
    for label, package in STATIC_LABELS.items():  # the data packages the static base records it was made from
        text = str(labels.get(label, ""))
        m = _PYPI_VERSION[package].search(text)
        if m:
            out.append(BaseComponent(package, m.group(1), f"pkg:pypi/{package}@{m.group(1)}",
                                     f"{text}: {'CA bundle' if package == 'certifi' else 'IANA zoneinfo'} of the "
                                     f"{base.name} base"))
    return tuple(out)


def inventory(image_name: str, image_digest: str, platform: str, binary: str, info: BuildInfo | None,
              module_fallback: str, go_version: str, base: Base) -> Inventory:
    deps: tuple[GoModule, ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    if info is None:  # a packed binary hides its build info: state what the build itself knows
        main, gov = GoModule(module_fallback, DEVEL), go_version
    else:
        main = GoModule.of(info.main) if info.main else GoModule(info.path or module_fallback, DEVEL)
        deps = tuple(GoModule.of(d) for d in info.deps)
        settings = tuple(sorted(info.settings.items()))
        gov = info.go_version or go_version
    return Inventory(image_name, image_digest, platform, binary, main, deps, gov, settings,
                     base_components(base), base.name, base.digest)
