"""Inspect benchmark: `slimgo inspect --ci` vs dive's CI mode (and a plain `tar -tv` of every layer) on
one docker-archive of a real Debian root filesystem.

    python3 benchmarks/inspect_bench.py [--rootfs DIR] [--runs N] [--keep]

The image: `debootstrap --variant=minbase` of Debian bookworm with a compiler, Python, Perl, git and
Go 1.19 (from Debian's mirror; pass --rootfs to reuse one), imported into the engine without Go 1.19's
prebuilt packages, then two layers on top (the host GOROOT's sources; a clean-up that deletes docs and
the apt cache, so there is waste to find), saved with `docker save`. Each tool runs as its own process
on the same archive, page cache warm; wall time is the median of N runs, memory is the peak RSS.
The waste numbers of both tools are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import parts  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

DOCKER = "/usr/bin/docker"
TAG = "slimgo-bench/inspect-debian:1"
PACKAGES = "build-essential,python3,git,golang-1.19-go,perl,vim,openssh-client,locales,curl"


def sh(*cmd: str) -> str:
    return parts.sh(*cmd).stdout


def debootstrap(dest: Path) -> None:
    if shutil.which("debootstrap") is None:
        sh("apt-get", "install", "-y", "-q", "debootstrap")
    sh("debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm", str(dest), "http://deb.debian.org/debian")


def build_image(rootfs: Path, work: Path) -> Path:
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "--exclude=./usr/lib/go-1.19", "-cf", "-", "."],
                           stdout=subprocess.PIPE)
    subprocess.run([DOCKER, "import", "--change", 'CMD ["/bin/bash"]', "-", TAG + "-base"], stdin=tar.stdout,
                   check=True, capture_output=True)
    tar.wait()
    goroot = Path(sh("go", "env", "GOROOT").strip())
    dockerfile = (f"FROM {TAG}-base\nCOPY src /usr/local/go/src\n"
                  "RUN rm -rf /usr/share/doc /var/cache/apt/archives/*.deb\n")
    subprocess.run([DOCKER, "build", "-q", "-t", TAG, "-f", "-", str(goroot)], input=dockerfile, text=True,
                   check=True, capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    archive = work / "debian.tar"
    sh(DOCKER, "save", "-o", str(archive), TAG)
    return archive


def layer_names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        fh = tar.extractfile("manifest.json")
        assert fh is not None
        return list(json.load(fh)[0]["Layers"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rootfs", type=Path, help="A Debian root filesystem (default: debootstrap one)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="Keep the image in the engine")
    args = ap.parse_args()
    console = Console()
    gopath = Path(sh("go", "env", "GOPATH").strip())
    dive = shutil.which("dive") or str(gopath / "bin" / "dive")
    if not Path(dive).is_file():
        subprocess.run(["go", "install", "github.com/wagoodman/dive@v0.13.1"], check=True)
    with tempfile.TemporaryDirectory(prefix="slimgo-inspect-bench-") as tmp:
        work = Path(tmp)
        rootfs = args.rootfs
        if rootfs is None:
            rootfs = work / "rootfs"
            console.print("debootstrap (minutes)…")
            debootstrap(rootfs)
        try:
            archive = build_image(rootfs, work)
            size = archive.stat().st_size
            layers = layer_names(archive)
            slim = [sys.executable, "-m", "slimgo", "inspect", f"docker-archive:{archive}", "--ci", "--json"]
            dive_ci = [dive, "--source", "docker-archive", "--ci", str(archive)]
            listing = ["sh", "-c", " && ".join(f"tar -xOf {archive} {name} | tar -tvf - >/dev/null"
                                               for name in layers)]
            results = {}
            for name, cmd, ok in (("slimgo inspect --ci", slim, (0, 1)), ("dive --ci", dive_ci, (0, 1)),
                                  ("tar -tv of every layer", listing, (0,))):
                parts.measure(cmd, ok)  # warm the page cache and imports
                runs = [parts.measure(cmd, ok) for _ in range(args.runs)]
                results[name] = (statistics.median(t for t, _ in runs), max(r for _, r in runs))
            doc = json.loads(subprocess.run(slim, capture_output=True, text=True).stdout)
            dive_json = work / "dive.json"
            subprocess.run([dive, "--source", "docker-archive", "--json", str(dive_json), str(archive)],
                           check=True, capture_output=True)
            d = json.loads(dive_json.read_text())
        finally:
            if not args.keep:
                subprocess.run([DOCKER, "rmi", "-f", TAG, TAG + "-base"], capture_output=True)
    t = doc["totals"]
    table = Table(title=f"inspect benchmark: docker-archive {size / 2**30:.2f} GiB, {len(layers)} layers, "
                        f"{t['files']} files in the final filesystem, "
                        f"{sum(x['entries'] for x in doc['layers'])} layer entries (median of {args.runs} runs)")
    for col in ("tool", "wall s", "vs slimgo", "peak RSS MiB"):
        table.add_column(col, justify="left" if col == "tool" else "right")
    base = results["slimgo inspect --ci"][0]
    for name, (wall, rss) in results.items():
        table.add_row(name, f"{wall:.2f}", f"{wall / base:.2f}x", f"{rss / 2**20:.0f}")
    console.print(table)
    w = doc["waste"]["dive"]
    console.print(f"efficiency: slimgo {w['efficiency']:.6f}, dive {d['image']['efficiencyScore']:.6f}; "
                  f"wasted bytes: slimgo {w['wasted_bytes']}, dive {d['image']['inefficientBytes']}; "
                  f"image bytes: slimgo {w['size_bytes']}, dive {d['image']['sizeBytes']}")
    console.print(f"slimgo also found: {len(doc['go_binaries'])} Go binaries, "
                  f"{len(doc['start']['binaries'])} programs checked, "
                  f"{len(doc['surface']['setuid'])} setuid files, duplicates "
                  f"{doc['waste']['duplicates']['bytes']} bytes; own timings {doc['timings']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
