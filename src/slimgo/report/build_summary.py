"""The table `slimgo build` prints."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..pipeline import BuildResult
from .units import human_bytes


def render(result: BuildResult, console: Console) -> None:
    table = Table(title=f"slimgo build · {result.plan.target.package}", title_justify="left")
    table.add_column("platform")
    table.add_column("layer")
    table.add_column("digest", style="dim")
    table.add_column("compressed", justify="right")
    table.add_column("uncompressed", justify="right")
    for p in result.platforms:
        for layer in p.image.layers:
            table.add_row(str(p.platform), escape(layer.comment or "layer"), layer.digest[7:19],
                          human_bytes(layer.size), human_bytes(layer.uncompressed_size))
        table.add_row(str(p.platform), "[bold]image[/]", p.image.digest[7:19],
                      f"[bold]{human_bytes(p.image.compressed_size)}[/]",
                      f"[bold]{human_bytes(p.image.uncompressed_size)}[/]", end_section=True)
    console.print(table)
    b = result.primary.binary
    line = f"binary {human_bytes(b.size)} ({result.plan.flags.command_line()})"
    if result.reference_binary_bytes:
        line += (f"; plain `go build` of the same package, measured in this run (--reference): "
                 f"{human_bytes(result.reference_binary_bytes)} → [green]−{result.reduction_pct}%[/]")
    else:
        line += "; --reference also measures a plain `go build` for comparison"
    console.print(line)
    if result.upx:
        _upx_lines(result.upx, console)
    console.print(f"image [bold]{result.publication.published.digest}[/]  base {escape(result.base_name)}")
    for ref in result.publication.image_refs:
        console.print(f"  {escape(ref)}")
    t = result.timings
    # a `go build` started at launch (gobuild/rerun.py) ran beside slimgo's own start: only the wait is slimgo's
    go = f"go build ran from launch (waited {t.get('go_build', 0):.2f}s for it)" if t.get("go_build_head_start") \
        else f"go build {t.get('go_build', 0):.2f}s"
    console.print(f"[dim]{go} · assemble {t.get('assemble', 0):.2f}s · write {t.get('write', 0):.2f}s · "
                  f"total {t.get('total', 0):.2f}s[/]")
    pub = result.publication.published
    for text in supply_chain_lines([a.artifact_type for a in pub.attachments],
                                   [m.tag for m in pub.local_signatures()], result.outputs):
        console.print(text, markup=False)
    loaded = loaded_line([str(t) for t in pub.tags], result.outputs)
    if loaded:
        console.print(loaded, markup=False)
    if "tarball" in result.outputs:
        console.print(f"load it: [bold]docker load -i {result.outputs['tarball']}[/]")
    if "oci_layout" in result.outputs:
        console.print(f"OCI layout: {result.outputs['oci_layout']}")
    if result.debug:
        render_debug(result.debug, console)


_ARTIFACT_NAMES = {"application/spdx+json": "SPDX SBOM", "application/vnd.cyclonedx+json": "CycloneDX SBOM",
                   "application/vnd.in-toto+json": "SLSA provenance"}
_STORES = ("oci_layout", "tarball", "pushed")  # outputs that keep referrers and cosign's tags; the engine keeps none


def supply_chain_lines(artifact_types: list[str], signature_tags: list[str], outputs: dict[str, Any]) -> list[str]:
    """What was attached and signed, and where it went: without these lines a signed build reads exactly like
    an unsigned one, and `--load` alone (which stores neither) looks like it kept them."""
    if not artifact_types and not signature_tags:
        return []
    kept = any(k in outputs for k in _STORES)
    where = "" if kept else " (made, not stored: the Docker engine keeps no referrers or signatures)"
    lines = []
    if artifact_types:
        names = sorted({_ARTIFACT_NAMES.get(t, t) for t in artifact_types})
        lines.append(f"attached: {', '.join(names)} (OCI referrers; read them with `slimgo sbom`){where}")
    if signature_tags:
        tags = sorted({f"{t[:19]}….{t.rsplit('.', 1)[-1]}" for t in signature_tags})  # sha256-<12 hex>….sig
        shown = ", ".join(tags[:2]) + (", …" if len(tags) > 2 else "")
        lines.append(f"signed: {len(signature_tags)} cosign manifest{'s' if len(signature_tags) != 1 else ''} "
                     f"({shown}); check with `cosign verify --key PUBLIC_KEY --insecure-ignore-tlog=true`{where}")
    return lines


def loaded_line(tags: list[str], outputs: dict[str, Any]) -> str | None:
    """After `--load`, how to run the image: by tag. A classic engine store records no manifest digest, so
    `docker run NAME@sha256:…` (the line above) goes to Docker Hub instead of the loaded image."""
    if "loaded" not in outputs or not tags:
        return None
    caveat = "" if "pushed" in outputs else "; the name@sha256 line is for a registry: the engine may not know it"
    return f"loaded into the Docker engine: run it as `docker run --rm {tags[0]}`{caveat}"


def render_debug(debug: dict[str, Any], console: Console) -> None:
    """The attach workflow, printed so it can be pasted: run, then VS Code's launch.json or dlv connect."""
    wait = "starts the program at once" if debug["continue"] else "waits for a debugger before starting the program"
    console.print(f"[bold]debug image[/]: Delve {debug['delve_version']} on :{debug['port']} ({wait})")
    console.print(f"run it:  {debug['docker_run']}")
    console.print("VS Code (.vscode/launch.json):")
    console.print(json.dumps(debug["launch_json"], indent=2), markup=False)
    if debug["dlv_init"] and not debug["written"]:
        console.print("dlv CLI: save these lines as dlv-init (the path mapping of the -trimpath build):")
        console.print(debug["dlv_init"].rstrip("\n"), markup=False)
    console.print(f"then:    {debug['dlv_connect']}   (detach with `quit -c`, which leaves the program running)")
    console.print("GoLand: a 'Go Remote' run configuration with the same host and port.")
    for path in debug["written"]:
        console.print(f"wrote {path}")


def _upx_lines(upx: dict[str, Any], console: Console) -> None:
    """The gain next to its cost, all measured on this binary: pull size saved, start-up and private
    memory added (UPX unpacks the whole program into memory that no other process can share)."""
    console.print(f"UPX {upx['version']} {' '.join(upx['args'])}: packed, `upx -t` ok, starts (verified)")
    for p in upx["platforms"]:
        where = " under qemu" if p["emulated"] else ""
        console.print(
            f"  {p['platform']}: binary {human_bytes(p['binary_bytes_unpacked'])} → {human_bytes(p['binary_bytes_packed'])}"
            f"; pull {_saved(p['pull_bytes_saved'])} (layer {human_bytes(p['layer_bytes_unpacked'])} → "
            f"{human_bytes(p['layer_bytes_packed'])})")
        console.print(
            f"    cost{where}: start-up [red]+{p['startup_ms_added']:.1f} ms[/] wall ({p['startup_ms_unpacked']:.1f} → "
            f"{p['startup_ms_packed']:.1f} ms), [red]+{p['startup_cpu_ms_added']:.1f} ms[/] CPU "
            f"({p['startup_cpu_ms_unpacked']:.1f} → {p['startup_cpu_ms_packed']:.1f} ms) to Go's runtime, median of "
            f"{p['runs']}; private memory "
            f"[red]+{human_bytes(p['private_bytes_added'])}[/] per process ({human_bytes(p['private_bytes_unpacked'])} → "
            f"{human_bytes(p['private_bytes_packed'])}, not shareable)")


def _saved(n: int) -> str:
    return f"[green]−{human_bytes(n)}[/]" if n >= 0 else f"[red]+{human_bytes(-n)} (larger than gzip alone)[/]"
