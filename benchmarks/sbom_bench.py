"""SBOM benchmark: slimgo's SBOM (from the build info, at build time) vs syft scanning the built image.

    python3 benchmarks/sbom_bench.py [--syft PATH] [--runs N]

syft comes from the Go module proxy (`go install github.com/anchore/syft/cmd/syft@v1.57.1`; several minutes
of CPU, which is why this is a benchmark and not a CI test). Programs: go-httpbin (the tests' program) and
crane (a program with dependencies, including a `+incompatible` one). Each is built once by `slimgo build
--oci-layout`; the table compares the Go modules (name, version) both tools list, and the time each takes
to produce them: slimgo's rendering of its SBOM from the binary vs syft's scan of the OCI layout (median of
N runs; syft runs as its own process).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from slimgo.base.model import Base
from slimgo.binary import buildinfo, elf
from slimgo.supplychain import spdx
from slimgo.supplychain.inventory import inventory

PROGRAMS = {"go-httpbin": "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0",
            "crane": "github.com/google/go-containerregistry/cmd/crane@v0.22.1"}


def _blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()


def slimgo_modules(layout: Path) -> set[tuple[str, str]]:
    index = json.loads((layout / "index.json").read_text())
    entry = next(m for m in index["manifests"] if m.get("artifactType") == spdx.MEDIA_TYPE)
    doc = json.loads(_blob(layout, json.loads(_blob(layout, entry["digest"]))["layers"][0]["digest"]))
    out = set()
    for p in doc["packages"]:
        purl = next((r["referenceLocator"] for r in p.get("externalRefs", [])), "")
        if purl.startswith("pkg:golang/"):
            out.add((p["name"], p["versionInfo"]))
    return out


def syft_modules(syft: str, layout: Path) -> tuple[set[tuple[str, str]], float]:
    t0 = time.perf_counter()
    proc = subprocess.run([syft, "scan", f"oci-dir:{layout}", "-o", "json", "-q"], capture_output=True, check=True)
    seconds = time.perf_counter() - t0
    doc = json.loads(proc.stdout)
    return {(a["name"], a["version"]) for a in doc["artifacts"] if a["type"] == "go-module"}, seconds


def render_seconds(binary: Path, digest: str) -> float:
    """What slimgo spends on the SBOM: read the build info of the binary and render SPDX."""
    t0 = time.perf_counter()
    with elf.MappedFile(binary) as mf:
        info = buildinfo.read(elf.parse(mf.view))
    spdx.render(inventory("bench", digest, "linux/amd64", binary.name, info, "", "", Base("static", (), {})),
                "1970-01-01T00:00:00Z")
    return time.perf_counter() - t0


def binary_of(layout: Path, work: Path) -> Path:
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(_blob(layout, index["manifests"][0]["digest"]))
    layer = layout / "blobs" / "sha256" / manifest["layers"][-1]["digest"].split(":")[1]
    subprocess.run(["tar", "-xzf", str(layer), "-C", str(work)], check=True)
    return next(p for p in (work / "app").iterdir() if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--syft", default=shutil.which("syft") or "syft")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not shutil.which(args.syft):
        print(f"syft not found ({args.syft}): go install github.com/anchore/syft/cmd/syft@v1.57.1", file=sys.stderr)
        return 2
    table = Table(title="Go modules in the SBOM: slimgo (build info, at build time) vs syft (scanning the image)")
    for col in ("program", "slimgo modules", "syft modules", "same (name, version)", "only slimgo", "only syft",
                "slimgo SBOM", "syft scan", "ratio"):
        table.add_column(col)
    with tempfile.TemporaryDirectory(prefix="slimgo-sbom-bench-") as tmp:
        for name, target in PROGRAMS.items():
            layout = Path(tmp) / name
            subprocess.run([sys.executable, "-m", "slimgo", "build", target, "--oci-layout", str(layout)],
                           check=True, capture_output=True)
            ours = slimgo_modules(layout)
            theirs: set[tuple[str, str]] = set()
            syft_times = []
            for _ in range(args.runs):
                theirs, seconds = syft_modules(args.syft, layout)
                syft_times.append(seconds)
            work = Path(tmp) / f"{name}-bin"
            work.mkdir()
            binary = binary_of(layout, work)
            digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
            ours_s = statistics.median(render_seconds(binary, digest) for _ in range(args.runs))
            syft_s = statistics.median(syft_times)
            only_ours, only_theirs = sorted(ours - theirs), sorted(theirs - ours)
            table.add_row(name, str(len(ours)), str(len(theirs)), str(len(ours & theirs)),
                          ", ".join(f"{n}@{v}" for n, v in only_ours) or "-",
                          ", ".join(f"{n}@{v}" for n, v in only_theirs) or "-",
                          f"{ours_s * 1000:.1f} ms", f"{syft_s * 1000:.0f} ms", f"{syft_s / ours_s:.0f}x")
    Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
