"""`slimgo resolve`: read manifests, build and push every program they reference (one build_many), and
return them with each reference pinned to the pushed digest. Nothing is printed unless every program built:
half-resolved manifests must not reach `kubectl apply`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from .build import ManyRequest, ManyResult, build_many
from .manifests import Manifest, Site, join, rewrite, sites

MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # a manifest larger than this is not a manifest
SUFFIXES = (".yaml", ".yml", ".json")

Progress = Callable[[str], None]


def _read(path: Path, name: str) -> Manifest:
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BadInput(f"{name}: larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
    try:
        return Manifest(name, path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise BadInput(f"{name}: not UTF-8 text") from None


def read_inputs(paths: tuple[str, ...], recursive: bool) -> list[Manifest]:
    """Files in the order given; a directory's YAML/JSON files sorted by path (subfolders with --recursive)."""
    out: list[Manifest] = []
    for given in paths:
        if given == "-":
            data = sys.stdin.read(MAX_MANIFEST_BYTES + 1)
            if len(data) > MAX_MANIFEST_BYTES:
                raise BadInput(f"stdin: larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
            out.append(Manifest("-", data))
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in (path.rglob("*") if recursive else path.iterdir())
                           if p.is_file() and p.suffix in SUFFIXES)
            out += [_read(p, str(p)) for p in files]
        elif path.is_file():
            out.append(_read(path, given))
        else:
            raise BadInput(f"{given}: no such file or directory")
    return out


@dataclass(frozen=True)
class Resolved:
    text: str | None  # None when a program failed
    build: ManyResult | None  # None when the manifests reference nothing


def resolve(manifests: list[Manifest], req: ManyRequest, progress: Progress) -> Resolved:
    found: list[list[Site]] = [sites(m) for m in manifests]  # every file parsed before anything is built
    paths = list(dict.fromkeys(s.import_path for fs in found for s in fs))
    if not paths:
        return Resolved(join([m.text for m in manifests]), None)
    result = build_many(ManyRequest(tuple(paths), req.template, req.naming, req.jobs, req.env), progress)
    if result.failed:
        return Resolved(None, result)
    refs = result.image_refs
    return Resolved(join([rewrite(m, fs, refs) for m, fs in zip(manifests, found, strict=True)]), result)
