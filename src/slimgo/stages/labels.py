"""The OCI annotations-as-labels an image carries, derived from the target, the binary's build info and the base."""

from __future__ import annotations

from ..base.model import Base
from ..binary.buildinfo import BuildInfo
from ..gobuild.target import Target

FORGES = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")  # module path → browsable source URL


def image_labels(target: Target, info: BuildInfo | None, base: Base) -> dict[str, str]:
    labels = {"org.opencontainers.image.title": target.name, "org.opencontainers.image.base.name": base.name}
    if base.digest:
        labels["org.opencontainers.image.base.digest"] = base.digest
    if info is None:
        return labels
    main = info.main
    version = target.version or (main.version if main and main.version not in ("", "(devel)") else "")
    if version:
        labels["org.opencontainers.image.version"] = version
    if info.setting("vcs.revision"):
        labels["org.opencontainers.image.revision"] = info.setting("vcs.revision")
    module_path = main.path if main else target.module_path
    if module_path.split("/")[0] in FORGES:
        labels["org.opencontainers.image.source"] = "https://" + "/".join(module_path.split("/")[:3])
    return labels
