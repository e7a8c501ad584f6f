"""`slimgo analyze`: a binary, every Go binary in an image, or the diff of two binaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import BadInput, BinaryFormatError
from .edge import Ui, emit_json, json_options

if TYPE_CHECKING:  # the ELF/pclntab readers load only when a binary is analyzed
    from ..binary.analysis import Analysis
    from ..binary.diff import Diff

@dataclass
class ImageAnalysis:
    ref: str
    binaries: list[tuple[str, str, Analysis]]  # (platform, path in image, analysis)
    debug_delve: dict[str, str] = field(default_factory=dict)  # platform -> Delve version, for debug images
    # ELF files that could not be parsed: (platform, path in image, reason). One damaged file (often not
    # even Go) must not hide the analysis of the others.
    unreadable: list[tuple[str, str, str]] = field(default_factory=list)
    attestations: dict[str, Any] | None = None  # supplychain.referrers.Attested: SBOM, provenance, signatures

    def to_json(self) -> dict[str, Any]:
        from ..binary.analysis import SCHEMA_VERSION

        return {"schema_version": SCHEMA_VERSION, "image": self.ref,
                "debug_image": bool(self.debug_delve), "delve_versions": self.debug_delve,
                "binaries": [{**a.to_json(), "platform": plat, "image_path": path}
                             for plat, path, a in self.binaries],
                "unreadable": [{"platform": plat, "image_path": path, "error": why}
                               for plat, path, why in self.unreadable],
                "attestations": self.attestations}


def image_spec(target: str) -> str | None:
    """The image reference a target names, with or without its prefix; None for a (would-be) binary.

    A directory that is not a layout is an error here: analyze has nothing else to read in it."""
    from ..oci.transports import sniff_path

    spec = sniff_path(target)
    if spec is None and Path(target).is_dir():
        raise BadInput(f"{target}: is a directory, and not an OCI image layout (no index.json)")
    return spec


def _is_elf(target: str) -> bool:
    """A file that starts as ELF is a binary: no need to ask whether it is an image tar or a layout."""
    from ..binary.elf import starts_as_elf

    return starts_as_elf(target)


def analyze_target(target: str, binary: str | None = None) -> Analysis | ImageAnalysis:
    """`binary` picks one file of an image by its path there (images can hold many binaries)."""
    from ..binary.analysis import analyze_bytes, analyze_file

    spec = None if binary is None and _is_elf(target) else image_spec(target)
    if spec is not None:
        import tempfile

        from ..debug.image import debug_image_delve
        from ..sources.files import elf_files
        from ..sources.local import open_image

        result = ImageAnalysis(spec, [])
        seen: list[str] = []
        with tempfile.TemporaryDirectory(prefix="slimgo-analyze-") as work:
            for image in open_image(spec, Path(work)):
                version = debug_image_delve(image.config)
                if version is not None:
                    result.debug_delve[str(image.platform)] = version
                for f in elf_files(image):
                    seen.append(f.path)
                    if binary is not None and f.path != "/" + binary.lstrip("/"):
                        continue
                    try:
                        with f.mapped() as mf:
                            a = analyze_bytes(mf.view, f.path)
                    except BinaryFormatError as exc:
                        if binary is not None:
                            raise
                        result.unreadable.append((image.platform.key, f.path, str(exc)))
                        continue
                    if a.is_go or binary is not None:
                        result.binaries.append((image.platform.key, f.path, a))
        result.attestations = _attestations(spec)
        if binary is not None and not result.binaries:
            listed = ", ".join(sorted(set(seen))) or "none"
            raise BadInput(f"{spec}: no ELF file at {binary} (ELF files in the image: {listed})")
        return result
    if binary is not None:
        raise BadInput(f"--binary picks a file inside an image; {target} is not an image")
    path = Path(target)
    if not path.exists():
        raise BadInput(f"{target}: no such file{_registry_hint(target)}")
    from ..sources.names import display_name

    single = analyze_file(path)
    single.path = display_name(single.path)
    return single


def _registry_hint(target: str) -> str:
    """A missing "file" shaped like `host/repo:tag` was meant as a registry image, which analyze does not pull."""
    from ..oci.reference import Reference

    if target.startswith(("/", ".", "~")) or (":" not in target and "@" not in target):
        return ""
    try:
        Reference.parse(target)
    except (BadInput, ValueError):
        return ""
    return ("; analyze reads binaries and local images (oci:DIR, docker-archive:FILE, docker-daemon:NAME), not "
            "registries: pull it first (`skopeo copy docker://REF oci:DIR`), or use `slimgo inspect REF`")


def _attestations(spec: str) -> dict[str, Any]:
    """What refers to the image (analyze reads local images only: layouts and archives hold referrers and
    cosign's tags in index.json; the engine holds none, which the result says)."""
    from ..supplychain.referrers import attested

    return attested(spec, None).to_json()


def diff(old_path: str, new_path: str) -> Diff:
    from ..binary.analysis import Analysis
    from ..binary.diff import diff as diff_analyses

    old, new = (analyze_target(p) for p in (old_path, new_path))
    if not isinstance(old, Analysis) or not isinstance(new, Analysis):
        raise BadInput("--diff compares two binaries, not images")
    return diff_analyses(old, new)


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--diff", "diff_mode", is_flag=True, help="Compare two binaries: OLD NEW.")
@click.option("--top", default=15, show_default=True, type=click.IntRange(min=1),
              help="Rows in the package/module table.")
@click.option("--by", type=click.Choice(["package", "module"]), default="package", show_default=True,
              help="Group sizes by Go package or by module.")
@click.option("--binary", metavar="PATH", help="In an image, analyze only the file at PATH (e.g. /app/hello).")
@json_options
def analyze(targets: tuple[str, ...], diff_mode: bool, top: int, by: str, binary: str | None,
            json_out: bool) -> None:
    """What is inside a Go binary or image (a tarball, an OCI layout directory, oci:DIR[:tag],
    docker-archive:FILE, docker-daemon:NAME), why it is big, what it needs."""
    if diff_mode:
        if len(targets) != 2:
            raise click.UsageError("--diff takes exactly two binaries: OLD NEW")
        render_diff_or_json(diff(targets[0], targets[1]), top, json_out)
        return
    if len(targets) != 1:
        raise click.UsageError("analyze takes one binary or image (or --diff OLD NEW)")
    render_or_json(analyze_target(targets[0], binary), top, by, json_out)


def render_diff_or_json(d: Diff, top: int, json_out: bool) -> None:
    if json_out:
        emit_json(d.to_json())
        return
    from ..report.analyze_view import render_diff

    render_diff(d, Ui().out, top)


def render_or_json(result: Analysis | ImageAnalysis, top: int, by: str, json_out: bool) -> None:
    if json_out:
        emit_json(result.to_json())
        return
    from ..report.analyze_view import render

    ui = Ui()
    if isinstance(result, ImageAnalysis):
        if not result.binaries:
            ui.note(f"no Go binaries found in {result.ref}")
        for platform, path, why in result.unreadable:
            ui.note(f"{platform} {path}: not analyzed ({why})")
        if result.attestations is not None:
            from ..report.inspect_view import attached_line

            ui.out.print(attached_line(result.attestations))
        for platform, version in result.debug_delve.items():
            ui.out.print(f"[yellow]debug image[/] ({platform}): Delve {version} (label dev.slimgo.debug)")
        for platform, path, a in result.binaries:
            render(a, ui.out, top, by, title=f"{platform} {path}")
    else:
        render(result, ui.out, top, by)
