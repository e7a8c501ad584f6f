"""SLSA v1 provenance as an in-toto Statement v1, for one platform image.

It states how the binary was made (the `go build` command, flags, toolchain), from what source (the VCS
settings Go records in the build info, when present) and on what base (the resolved digest). No start or
finish time is written unless SOURCE_DATE_EPOCH gives one, so the same build gives the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..oci.model import canonical_json
from .inventory import Inventory

MEDIA_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://slimgo.dev/buildtypes/go-image/v1"
BUILDER_ID = f"https://slimgo.dev/builder/slimgo@{__version__}"

_VCS_SCHEMES = {"git": "git+", "hg": "hg+", "svn": "svn+", "bzr": "bzr+", "fossil": "fossil+"}


@dataclass(frozen=True)
class Invocation:
    """The build's parameters as the user gave them (no machine paths: a local target is named by package)."""

    target: str  # import path, @version for a remote target
    go_build: str  # the equivalent `go build` command line
    base: str
    platform: str


def _source(inv: Inventory) -> dict[str, Any] | None:
    vcs, url, rev = inv.setting("vcs"), inv.setting("vcs.url"), inv.setting("vcs.revision")
    if not vcs or not rev:
        return None
    uri = f"{_VCS_SCHEMES.get(vcs, vcs + '+')}{url}" if url else f"{vcs}:{inv.main.path}"
    digest = {"gitCommit": rev} if vcs == "git" else {vcs + "Commit": rev}
    dep: dict[str, Any] = {"uri": f"{uri}@{rev}", "digest": digest}
    if inv.setting("vcs.modified"):
        dep["annotations"] = {"vcs.modified": inv.setting("vcs.modified"), "vcs.time": inv.setting("vcs.time")}
    return dep


def render(inv: Inventory, call: Invocation, started: str | None) -> bytes:
    deps: list[dict[str, Any]] = []
    source = _source(inv)
    if source is not None:
        deps.append(source)
    deps.append({"uri": inv.toolchain.purl, "name": inv.go_version})
    if inv.main.h1:
        deps.append({"uri": inv.main.purl, "digest": {"sha256": inv.main.sha256}})
    for comp in inv.base:
        dep: dict[str, Any] = {"uri": comp.purl, "name": comp.name}
        if comp.sha256:
            dep["digest"] = {"sha256": comp.sha256}
        deps.append(dep)
    metadata: dict[str, Any] = {"invocationId": f"urn:uuid:{inv.stable_uuid('provenance')}"}
    if started is not None:
        metadata["startedOn"] = started
    doc = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": inv.image_name, "digest": {"sha256": inv.image_hex}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"target": call.target, "base": call.base, "platform": call.platform},
                "internalParameters": {"goBuild": call.go_build, "goVersion": inv.go_version,
                                       "buildSettings": dict(inv.settings)},
                "resolvedDependencies": deps,
            },
            "runDetails": {"builder": {"id": BUILDER_ID}, "metadata": metadata},
        },
    }
    return canonical_json(doc)
