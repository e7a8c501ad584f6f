"""`slimgo dockerfile` end to end: read the module, choose the runtime, render, and say how to build.

Every input is checked before anything is written; the Dockerfile and .dockerignore are written
atomically, so an interrupted run leaves the old files or the new ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from ..gobuild.target import resolve
from ..gobuild.toolchain import Toolchain
from . import generate, pin, project, runtime


@dataclass(frozen=True)
class Plan:
    text: str
    dockerfile: Path
    dockerignore: Path
    dockerignore_text: str
    build_command: str
    notes: list[str]
    context: Path
    go_version: str
    runtime_image: str
    cgo: bool

    def to_json(self, *, wrote_dockerfile: bool, wrote_dockerignore: bool) -> dict[str, object]:
        return {"schema_version": 1, "dockerfile": str(self.dockerfile) if wrote_dockerfile else None,
                "dockerignore": str(self.dockerignore) if wrote_dockerignore else None,
                "context": str(self.context), "build_command": self.build_command, "go_version": self.go_version,
                "runtime_image": self.runtime_image, "cgo": self.cgo, "notes": self.notes}


def dockerignore_for(facts: project.ModuleFacts) -> str:
    """The module's usual ignore list; a context wider than the module (workspace, local replaces) is
    also cut down to the directories the build reads, so a monorepo is not sent whole."""
    top = [f for rel, files in facts.manifests if rel == "." for f in files]
    if facts.module_dir == "." or "go.mod" in top:
        return generate.DOCKERIGNORE  # a module at the root: all of it is source
    keep = sorted({rel for rel, _ in facts.manifests if rel != "."})
    lines = ["*", *(f"!{d}" for d in keep), *(f"!{f}" for f in top)]
    body = "\n".join(f"**/{line}" for line in generate.DOCKERIGNORE.splitlines() if not line.startswith("#"))
    return ("# written by slimgo dockerfile: the context is the directory holding the module and its local\n"
            "# modules; only those are sent\n" + "\n".join(lines) + "\n" + body + "\n")


def plan(directory: str, *, toolchain: Toolchain, output: Path | None, base: str | None,
         opts: generate.Options, pin_digests: bool = False, force: bool = True,
         registry_for: pin.RegistryFor = pin.default_registry) -> Plan:
    """Everything the user can get wrong is checked before the host build and the registry calls."""
    opts.check()
    target = resolve(directory, toolchain)
    if target.module_root is None or target.package_dir is None:
        raise BadInput(f"{directory}: slimgo dockerfile takes a local main package directory")
    facts = project.module_facts(target.package_dir, target.module_root, target.name, toolchain)
    notes: list[str] = []
    cgo = opts.cgo or bool(facts.cgo_packages)
    if cgo and not opts.cgo:
        notes.append(f"cgo: {', '.join(facts.cgo_packages)} cannot build with CGO_ENABLED=0 (cgo files and no "
                     "pure-Go fallback); the builder runs on the target platform with CGO_ENABLED=1")
        opts = generate.Options(**{**opts.__dict__, "cgo": True})
        opts.check()
    dest = output or target.module_root / "Dockerfile"
    dest = dest if dest.is_absolute() else Path.cwd() / dest
    if dest.exists() and not force:
        raise BadInput(f"{dest}: exists (use --force to overwrite, or -o FILE)")
    rel_df = os.path.relpath(dest, facts.root)
    opts = generate.Options(**{**opts.__dict__, "dockerfile": Path(rel_df).as_posix()})
    pins: dict[str, str] = {}
    if pin_digests:  # the images known before the runtime is chosen: a dead registry fails first
        for arg, ref in generate.image_args(facts, None, opts).items():
            pins[arg], note = pin.pin(ref, registry_for)
            notes += [note] if note else []
    rt = runtime.choose(base, cgo=cgo, flags=generate.go_flags(opts),
                        probe=runtime.host_probe(toolchain, target))
    if pin_digests and rt.image != "scratch":
        pins["RUNTIME_IMAGE"], note = pin.pin(rt.image, registry_for)
        notes += [note] if note else []
    text = generate.render(facts, rt, opts, pins)
    context = os.path.relpath(facts.root)
    # docker build reads CONTEXT/Dockerfile by default; -f only for a file elsewhere.
    df_arg = "Dockerfile" if dest == facts.root / "Dockerfile" else os.path.relpath(dest)
    command = generate.build_command(facts, df_arg, context)
    return Plan(text, dest, facts.root / ".dockerignore", dockerignore_for(facts), command, notes, facts.root,
                facts.go.version, pins.get("RUNTIME_IMAGE", rt.image), cgo)
