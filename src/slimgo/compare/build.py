"""Build one rung of the ladder: the user's binary and the probe, post-steps, base, image."""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.model import Base
from ..base.resolve import resolve_embedded
from ..base.selection import KEEP_EVERYTHING_HINT, static_spec_for
from ..base.static import PATH_ENV
from ..epoch import EPOCH_ZERO
from ..errors import BadInput, CheckFailed
from ..gobuild.build import BuiltBinary, compile_binary
from ..gobuild.target import Target
from ..gobuild.toolchain import Toolchain, run_go
from ..oci.cache import LayerCache
from ..oci.compress import check as check_level
from ..oci.layer import Entry, dir_entry, tree_entries, write_layer
from ..oci.model import Image, ImageConfig, Layer
from ..oci.views import ConfigView
from ..platform import Platform
from ..stages.assemble import Addendum, assemble, binary_layer, entrypoint
from ..stages.inspect import BinaryFacts, inspect
from ..strategy import Strategy
from ..upx import policy as upx_policy
from ..upx import step as upx_step
from ..upx import tool as upx_tool
from .hostlibs import runtime_layer

PROBE_NAME = "slimgo-probe"


@dataclass
class BuiltVariant:
    spec: Strategy
    platform: Platform
    image: Image | None = None
    probe: Image | None = None
    binary_bytes: int | None = None
    dynamic: bool = False
    missing: list[str] = field(default_factory=list)  # runtime files the base lacks (interpreter, libs)
    skipped: bool = False
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    go_build_seconds: float = 0.0
    upx: dict[str, Any] | None = None  # the upx step's verification and measured cost (upx/step.py)


def probe_target(work: Path) -> Target:
    """The probe's sources, copied out of the package data (site-packages may be read-only)."""
    src = work / "probe-src"
    if not src.exists():
        src.mkdir(parents=True)
        pkg = importlib.resources.files("slimgo.compare") / "probe"
        for name in ("go.mod", "main.go"):
            (src / name).write_bytes((pkg / name).read_bytes())
    return Target(package="slimgo.dev/probe", name=PROBE_NAME, package_dir=src, module_root=src,
                  module_path="slimgo.dev/probe")


def _post_process(binary: BuiltBinary, spec: Strategy, out: BuiltVariant | None = None) -> int:
    for step in spec.post:
        if step == "strip":
            tool = shutil.which("strip")
            if tool is None:
                raise _Skip("binutils strip is not installed")
            subprocess.run([tool, "--strip-all", str(binary.path)], check=True, capture_output=True)
        elif step == "upx":
            _upx(binary, spec, out)
    return binary.path.stat().st_size


def _upx(binary: BuiltBinary, spec: Strategy, out: BuiltVariant | None) -> None:
    """Pack and verify with the UPX `slimgo build --upx` uses; the packed file then takes the binary's place
    (a rename: its bytes are never touched after UPX). The user's binary (out given) also gets the cost
    measured; the probe is packed and verified the same way."""
    upx = upx_tool.find()
    if upx is None:
        raise _Skip(f"UPX is not installed: {upx_tool.INSTALL_HINT}")
    why = upx_policy.refusal(binary.platform, spec.flags, os.environ)
    if why:
        raise _Skip(why)
    try:
        packed = upx_step.pack_and_verify(upx, binary.path, binary.platform, upx_tool.DEFAULT_ARGS,
                                          runs=5 if out is not None else 1)
    except CheckFailed as exc:
        raise _Skip(f"UPX {upx.version}: {exc}") from None
    os.replace(packed.path, binary.path)
    if out is not None:
        out.upx = {"version": upx.version, "args": list(upx_tool.DEFAULT_ARGS), **packed.to_json()}


class _Skip(Exception):
    pass


def _baseline_layers(toolchain: Toolchain, target: Target, blob_dir: Path, cache: LayerCache | None,
                     compression: str, level: int | None) -> list[Layer]:
    """GOROOT, the module's downloaded dependencies, and the source tree, as a `FROM golang` image has."""
    layers = []
    key = f"goroot-{toolchain.version}-{toolchain.goos}-{toolchain.goarch}-{compression}-{level}"
    cached = cache.get(key) if cache else None
    if cached is None:
        cached = write_layer(tree_entries(Path(toolchain.goroot), "usr/local/go"), blob_dir,
                             compression=compression, level=level, comment="Go toolchain (GOROOT)")
        if cache:
            cached = cache.put(key, cached)
    layers.append(cached)
    entries: list[Entry] = [dir_entry("go/pkg/mod")]
    if target.module_root is not None:
        out = run_go(toolchain.go, ["list", "-m", "-json", "all"], cwd=target.module_root)
        decoder = json.JSONDecoder()
        pos = 0
        while pos < len(out):
            while pos < len(out) and out[pos].isspace():
                pos += 1
            if pos >= len(out):
                break
            mod, pos = decoder.raw_decode(out, pos)
            if mod.get("Main") or not mod.get("Dir"):
                continue
            entries += tree_entries(Path(mod["Dir"]), f"go/pkg/mod/{mod['Path']}@{mod['Version']}")
        layers.append(write_layer(entries, blob_dir, compression=compression, level=level,
                                  comment="module cache"))
        src = [e for e in tree_entries(target.module_root, "src") if "/.git" not in f"/{e.path}/"]
        layers.append(write_layer(src, blob_dir, compression=compression, level=level, comment="source tree"))
    return layers


def build_variant(spec: Strategy, toolchain: Toolchain, target: Target, platform: Platform, work: Path,
                  cache: LayerCache | None, baseline_base: Base | None = None) -> BuiltVariant:
    out = BuiltVariant(spec, platform)
    vdir = work / spec.name
    blob_dir = work / "blobs"
    try:
        binary = compile_binary(toolchain, target, spec.flags, platform, vdir / "bin")
        probe = compile_binary(toolchain, probe_target(work), spec.flags, platform, vdir / "probe")
        out.go_build_seconds = binary.seconds + probe.seconds
        # read before any post-step: a packed binary's function table cannot be read, and the packed and
        # unpacked rungs must ship the same base
        facts = inspect(binary, with_needs=spec.base == "static" and not (spec.baseline and baseline_base))
        out.binary_bytes = _post_process(binary, spec, out)
        _post_process(probe, spec)
    except _Skip as exc:
        out.skipped, out.reason = True, str(exc)
        return out
    except BadInput as exc:
        out.skipped, out.reason = True, f"build failed: {exc}"
        return out
    base = _base(spec, facts, platform, blob_dir, cache, baseline_base, out)
    out.dynamic = facts.dynamic
    runtime, out.missing = _c_runtime(facts, base, spec, blob_dir, out)
    probe_runtime, _ = _c_runtime(inspect(probe, with_needs=False), base, spec, blob_dir, None)
    extra: list[Layer] = []
    if spec.baseline:
        extra = _baseline_layers(toolchain, target, blob_dir, cache, spec.compression, spec.level)
    out.image = _image(base, [*runtime, *extra], binary, spec, blob_dir, platform)
    out.probe = _image(base, probe_runtime, probe, spec, blob_dir, platform)
    return out


def _c_runtime(facts: BinaryFacts, base: Base, spec: Strategy, blob_dir: Path,
               out: BuiltVariant | None) -> tuple[list[Layer], list[str]]:
    """A dynamic binary on a base without its loader gets the host's C runtime as a layer, so that it
    starts, as it would on a distro image; what still misses is returned (it will not start)."""
    missing = facts.missing_from(base)
    if not missing:
        return [], []
    layer, note = runtime_layer(facts.binary.path, blob_dir, spec.compression, spec.level)
    if out is not None:
        out.notes.append(note)
    return ([layer], []) if layer is not None else ([], missing)


def _base(spec: Strategy, facts: BinaryFacts, platform: Platform, blob_dir: Path, cache: LayerCache | None,
          baseline_base: Base | None, out: BuiltVariant) -> Base:
    if spec.baseline and baseline_base is not None:
        return baseline_base
    level = check_level(spec.compression, spec.level)
    if spec.base == "static":
        static_spec, notes = static_spec_for(facts.needs, facts.binary.name)
        out.notes += [n for n in notes if n != KEEP_EVERYTHING_HINT]
        return resolve_embedded("static", platform.oci(), blob_dir, cache, spec.compression, level, static_spec)
    return resolve_embedded(spec.base, platform.oci(), blob_dir, cache, spec.compression, level)


def _image(base: Base, extra: list[Layer], binary: BuiltBinary, spec: Strategy, blob_dir: Path,
           platform: Platform) -> Image:
    layer = binary_layer(binary, blob_dir, spec.compression, spec.level)
    env = [] if ConfigView(base.config).env else [PATH_ENV]
    cfg = ImageConfig(platform=platform.oci(), created=EPOCH_ZERO, env=env, entrypoint=entrypoint(binary),
                      labels={"dev.slimgo.compare.variant": spec.name})
    created_by = f"slimgo compare: {spec.name}"
    return assemble(base, [Addendum(x, created_by, x.comment) for x in [*extra, layer]], cfg)
