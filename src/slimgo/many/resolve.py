"""`slimgo resolve`: read manifests, build and push every program they reference (one build_many), and
return them with each reference pinned to the pushed digest. Nothing is printed unless every program built:
half-resolved manifests must not reach `kubectl apply`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .build import SCHEMA_VERSION, ManyRequest, ManyResult, build_many
from .manifests import Manifest, Site, join, rewrite, sites

MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # a manifest larger than this is not a manifest
SUFFIXES = (".yaml", ".yml", ".json")

Progress = Callable[[str], None]


def _read(path: Path, name: str) -> Manifest:
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BadInput(f"{name}: larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
    try:
        return Manifest(name, path.read_bytes().decode("utf-8"))  # not read_text: CRLF files stay CRLF
    except UnicodeDecodeError:
        raise BadInput(f"{name}: not UTF-8 text") from None


def _read_stdin() -> str:
    """As bytes when there is a real stdin, so CRLF manifests piped in stay CRLF, as files do."""
    raw = getattr(sys.stdin, "buffer", None)
    data: str | bytes = raw.read(MAX_MANIFEST_BYTES + 1) if raw is not None else sys.stdin.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise BadInput(f"stdin: larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("stdin: not UTF-8 text") from None


def read_inputs(paths: tuple[str, ...], recursive: bool) -> list[Manifest]:
    """Files in the order given; a directory's YAML/JSON files sorted by path (subfolders with --recursive)."""
    out: list[Manifest] = []
    for given in paths:
        if given == "-":
            out.append(Manifest("-", _read_stdin()))
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
    manifests: tuple[Manifest, ...] = ()
    found: tuple[tuple[Site, ...], ...] = ()  # per manifest, its references in text order

    def to_json(self, output: Path | None) -> dict[str, Any]:
        """`resolve --json`: every file and reference (line, import path, the digest reference it became), the
        builds, and the resolved manifests themselves (null when a program failed), or where they were written."""
        refs = self.build.image_refs if self.build is not None and self.text is not None else {}
        files = [{"name": m.name, "references": [
            {"line": m.text.count("\n", 0, site.offset) + 1, "reference": site.ref, "import_path": site.import_path,
             "image_ref": refs.get(site.import_path)} for site in sites_]}
            for m, sites_ in zip(self.manifests, self.found, strict=True)]
        built = self.build.to_json() if self.build is not None else None
        return {"schema_version": SCHEMA_VERSION, "files": files,
                "images": built["images"] if built else [], "built": built["built"] if built else 0,
                "failed": built["failed"] if built else 0, "push": built["push"] if built else None,
                "output": str(output) if output is not None and self.text is not None else None,
                "manifests": self.text if output is None else None}


def resolve(manifests: list[Manifest], req: ManyRequest, progress: Progress) -> Resolved:
    found = tuple(tuple(sites(m)) for m in manifests)  # every file parsed before anything is built
    paths = list(dict.fromkeys(s.import_path for fs in found for s in fs))
    if not paths:
        return Resolved(join([m.text for m in manifests]), None, tuple(manifests), found)
    result = build_many(ManyRequest(tuple(paths), req.template, req.naming, req.jobs, req.env), progress)
    if result.failed:
        return Resolved(None, result, tuple(manifests), found)
    refs = result.image_refs
    text = join([rewrite(m, list(fs), refs) for m, fs in zip(manifests, found, strict=True)])
    return Resolved(text, result, tuple(manifests), found)
