"""Start-up time and peak memory, measured by running the entrypoint in the image's unpacked root
filesystem (sandbox.py: a private mount namespace and chroot, as root), so that engine overhead does not
swamp the differences (UPX's unpacking).

Unpacking is `sources/unpack.py`: it never writes outside the target directory.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..oci.model import Image
from ..sources.files import source_layers
from ..sources.unpack import unpack_layers
from .sandbox import Command, accepts, run_capture, run_to_exit, run_until_ready


@dataclass
class Measurement:
    startup_ms: float | None  # median
    rss_bytes: int | None  # median of the runs' peaks (VmHWM)
    starts: bool | None
    reason: str = ""
    startup_range: list[float] | None = None  # [min, max] over the runs
    rss_range: list[int] | None = None
    runs: int = 0
    output: str = ""  # the tail of the program's output (stdout+stderr) on its last run


def unpack(image: Image, root: Path) -> Path:
    """The image's root filesystem (never written outside root: see sources/unpack.py)."""
    return unpack_layers(source_layers(image.layers), root)


def _command(root: Path, image: Image, args: list[str]) -> Command:
    """How the image's config says to start it: argv, environment, numeric user, working directory."""
    cfg = image.config_view
    env = {k: v for k, v in (e.split("=", 1) for e in cfg.env if "=" in e)}
    uid, _, gid = (cfg.user or "0").partition(":")
    try:
        ids = int(uid), int(gid or uid)
    except ValueError:
        ids = 0, 0  # named users need the image's passwd; measurement runs them as root
    return Command(root, cfg.entrypoint + args, env, *ids, cfg.workdir or "/")


def _spread(values: list[float]) -> list[float] | None:
    return [round(min(values), 2), round(max(values), 2)] if values else None


def measure(root: Path, image: Image, run_args: list[str], port: int | None, ready: str | None, grace: float,
            runs: int = 5) -> Measurement:
    """`runs` starts in the sandbox: the median start-up and peak memory, with their spread (min, max)."""
    cmd = _command(root, image, run_args)
    pattern = re.compile(ready) if ready else None
    times: list[float] = []
    peaks: list[float] = []
    last = None
    for _ in range(runs):
        if port is not None and accepts(port):
            return Measurement(None, None, None, f"port {port} is already in use on this machine")
        if port is None and pattern is None:
            last = run_to_exit(cmd, grace)
        else:
            last = run_until_ready(cmd, port, pattern, max(grace, 10.0))
        if not last.ok:
            return Measurement(None, last.peak_rss, False, last.reason, output=last.output)
        if last.elapsed_ms is not None:
            times.append(last.elapsed_ms)
        if last.peak_rss:
            peaks.append(last.peak_rss)
    startup = round(statistics.median(times), 2) if len(times) == runs else None
    rss = int(statistics.median(peaks)) if peaks else None
    reason = "" if startup is not None else "runs until stopped: give --port or --ready to time start-up"
    return Measurement(startup, rss, True, reason, startup_range=_spread(times) if startup is not None else None,
                       rss_range=[int(x) for x in _spread(peaks) or []] or None, runs=runs,
                       output=last.output if last else "")


def run_once(root: Path, image: Image, timeout: float = 30.0) -> tuple[int, str]:
    """Run the entrypoint once in the sandbox (for the probe when no engine is available)."""
    return run_capture(_command(root, image, []), timeout)
