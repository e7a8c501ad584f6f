"""`slimgo build --builder` benchmark: the compile on this machine vs in a BuildKit daemon on this machine
(the peer, measured in the same run), for examples/hello on two platforms.

    python3 benchmarks/builder_bench.py

Three rounds, each side the same: cold (an empty Go build cache: a fresh GOCACHE here, a fresh buildkitd
there), warm (nothing changed: BuildKit answers from its cache of the compile step), and edit (one source
line changed: Go's build cache is warm, the program's package is compiled again). The number is slimgo's own
`go_build` timing (compile, and for BuildKit the context upload and the binary's return). Each round checks
that both sides give the same image digest. buildkitd and its Go builder image are stood up as the tests
do (tests/support/buildkitd.py), offline, with buildkitd/buildctl from PATH or `go env GOPATH`/bin.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from parts import sh  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.support.buildkitd import buildkitd, push_goroot_image, tool  # noqa: E402
from tests.support.registry import registry  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HELLO = REPO / "examples" / "hello"
PLATFORMS = "linux/amd64,linux/arm64"


def build(src: Path, out: Path, env: dict[str, str], *extra: str) -> tuple[float, str]:
    proc = sh(sys.executable, "-m", "slimgo", "build", src, "--platform", PLATFORMS, "--oci-layout", out, "--json",
              *extra, env=env)
    doc = json.loads(proc.stdout)
    shutil.rmtree(out, ignore_errors=True)
    return float(doc["timings_seconds"]["go_build"]), str(doc["image_digest"])


def main() -> None:
    buildkitd_bin, buildctl_bin, skopeo = tool("buildkitd"), tool("buildctl"), shutil.which("skopeo")
    if not (buildkitd_bin and buildctl_bin and skopeo):
        sys.exit("needs buildkitd, buildctl (scripts/test.sh installs them) and skopeo")
    rows = []
    with tempfile.TemporaryDirectory(prefix="slimgo-builder-bench-") as tmp:
        work = Path(tmp)
        src = work / "hello"
        shutil.copytree(HELLO, src)  # outside any git work tree, so neither side stamps VCS information
        local_env = {"GOCACHE": str(work / "gocache"), "GOFLAGS": "-buildvcs=auto"}
        with registry(work / "registry") as reg:
            image = push_goroot_image(reg, work, skopeo)
            with buildkitd(work, reg, buildkitd_bin, buildctl_bin) as addr:
                remote = ["--builder", addr, "--builder-image", image]
                remote_env = {"SLIMGO_BUILDCTL": buildctl_bin, "GOFLAGS": "-buildvcs=auto"}
                for round_name in ("cold", "warm", "edit"):
                    if round_name == "edit":
                        main_go = src / "main.go"
                        main_go.write_text(main_go.read_text().replace('"hello', '"hello again', 1))
                    local_s, local_digest = build(src, work / "out", local_env)
                    bk_s, bk_digest = build(src, work / "out", remote_env, *remote)
                    rows.append((round_name, local_s, bk_s, local_digest == bk_digest))
    table = Table(title=f"examples/hello, {PLATFORMS}: go_build seconds (slimgo's timing)")
    for col in ("round", "local", "BuildKit (--builder)", "BuildKit / local", "same image digest"):
        table.add_column(col)
    for name, local_s, bk_s, same in rows:
        table.add_row(name, f"{local_s:.2f}", f"{bk_s:.2f}", f"{bk_s / local_s:.2f}×", "yes" if same else "NO")
    Console().print(table)
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores; load average at the end {load[0]:.1f} (1 min), {load[2]:.1f} (15 min)")


if __name__ == "__main__":
    main()
