"""OS/architecture/variant triples, as OCI and Go spell them."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BadInput

_ARCHES = {"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64"}


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    arch: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> "Platform":
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

    def __str__(self) -> str:
        return "/".join(x for x in (self.os, self.arch, self.variant) if x)

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
