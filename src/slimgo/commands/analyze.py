"""`slimgo analyze`: a binary, every Go binary in an image, or the diff of two binaries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import BadInput
from .edge import Ui, emit_json

if TYPE_CHECKING:  # the ELF/pclntab readers load only when a binary is analyzed
    from ..binary.analysis import Analysis
    from ..binary.diff import Diff

IMAGE_PREFIXES = ("oci:", "docker-archive:")


@dataclass
class ImageAnalysis:
    ref: str
    binaries: list[tuple[str, str, Analysis]]  # (platform, path in image, analysis)

    def to_json(self) -> dict[str, Any]:
        from ..binary.analysis import SCHEMA_VERSION

        return {"schema_version": SCHEMA_VERSION, "image": self.ref,
                "binaries": [{**a.to_json(), "platform": plat, "image_path": path}
                             for plat, path, a in self.binaries]}


def analyze_target(target: str) -> Analysis | ImageAnalysis:
    from ..binary.analysis import analyze_bytes, analyze_file

    if target.startswith(IMAGE_PREFIXES):
        from ..sources.files import elf_files
        from ..sources.local import open_image

        out: list[tuple[str, str, Analysis]] = []
        for image in open_image(target):
            for f in elf_files(image):
                a = analyze_bytes(memoryview(f.data), f.path)
                if a.is_go:
                    out.append((image.platform, f.path, a))
        return ImageAnalysis(target, out)
    path = Path(target)
    if not path.exists():
        raise BadInput(f"{target}: no such file")
    return analyze_file(path)


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
@click.option("--top", default=15, show_default=True, help="Rows in the package/module table.")
@click.option("--by", type=click.Choice(["package", "module"]), default="package", show_default=True)
@click.option("--json", "json_out", is_flag=True, help="Print one JSON document on stdout.")
def analyze(targets: tuple[str, ...], diff_mode: bool, top: int, by: str, json_out: bool) -> None:
    """What is inside a Go binary or image (oci:DIR[:tag], docker-archive:FILE), why it is big, what it needs."""
    if diff_mode:
        if len(targets) != 2:
            raise click.UsageError("--diff takes exactly two binaries: OLD NEW")
        render_diff_or_json(diff(targets[0], targets[1]), top, json_out)
        return
    if len(targets) != 1:
        raise click.UsageError("analyze takes one binary or image (or --diff OLD NEW)")
    render_or_json(analyze_target(targets[0]), top, by, json_out)


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
        for platform, path, a in result.binaries:
            render(a, ui.out, top, by, title=f"{platform} {path}")
    else:
        render(result, ui.out, top, by)
