"""OS/architecture/variant triples, as OCI and Go spell them; the one place a platform key is built or matched."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BadInput

_ARCHES = {"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64"}


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    arch: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """A platform the user asks slimgo to build for: validated (linux, a Go architecture)."""
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise BadInput(f"platform {text!r} is not OS/ARCH[/VARIANT] (e.g. linux/arm64)")
        os_, arch = parts[0], parts[1]
        if os_ != "linux":
            raise BadInput(f"platform {text!r}: only linux images are supported")
        if arch not in _ARCHES:
            raise BadInput(f"platform {text!r}: unknown architecture {arch!r}")
        variant = parts[2] if len(parts) == 3 else ""
        if arch == "arm" and not variant:
            variant = "v7"
        if arch == "arm" and variant not in ("v5", "v6", "v7"):
            raise BadInput(f"platform {text!r}: arm variant must be v5, v6 or v7")
        return cls(os_, arch, variant)

    @classmethod
    def from_oci(cls, doc: Mapping[str, Any]) -> Platform:
        """What an image config or an index entry says, as it says it (not validated: images come from anywhere)."""
        return cls(str(doc.get("os") or ""), str(doc.get("architecture") or ""), str(doc.get("variant") or ""))

    @property
    def key(self) -> str:
        """os/arch[/variant]: how indexes, reports and `--platform` spell it."""
        return "/".join(x for x in (self.os, self.arch, self.variant) if x)

    def __str__(self) -> str:
        return self.key

    def satisfies(self, wanted: Platform) -> bool:
        """Can this (offered) platform serve a request for `wanted`? A bare linux/arm counts as v7."""
        if (self.os, self.arch) != (wanted.os, wanted.arch):
            return False
        return (not wanted.variant or self.variant == wanted.variant
                or (wanted.arch == "arm" and not self.variant and wanted.variant == "v7"))

    def go_env(self) -> dict[str, str]:
        env = {"GOOS": self.os, "GOARCH": self.arch}
        if self.arch == "arm" and self.variant:
            env["GOARM"] = self.variant.lstrip("v")
        return env

    def oci(self) -> dict[str, str]:
        out = {"architecture": self.arch, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out
