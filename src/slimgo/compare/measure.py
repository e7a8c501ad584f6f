"""Start-up time and peak memory, measured by running the entrypoint in the image's unpacked root
filesystem (sandbox.py: a private mount namespace and chroot, as root), so that engine overhead does not
swamp the differences (UPX's unpacking).

Unpacking never writes outside the target directory: entries are normalised, `..` and absolute link
targets that would escape are refused, and nothing is followed through a symlink.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import statistics
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImageFormatError
from ..oci.model import Image
from ..sources.files import decompressed_stream
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


def _inside(root: Path, rel: str) -> Path:
    norm = posixpath.normpath("/" + rel).lstrip("/")
    if norm.startswith("..") or not norm or norm == ".":
        raise ImageFormatError(f"layer entry {rel!r} escapes the image root")
    return root / norm


def unpack(image: Image, root: Path) -> Path:
    """Extract the layers in order, applying whiteouts, without ever following a symlink."""
    root.mkdir(parents=True, exist_ok=True)
    for layer in image.layers:
        with decompressed_stream(layer.open) as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
            for m in tar:
                dest = _inside(root, m.name)
                name = dest.name
                if name.startswith(".wh."):
                    target = dest.with_name(name[4:])
                    if name == ".wh..wh..opq":
                        for child in dest.parent.iterdir():
                            _remove(child)
                    elif target.exists() or target.is_symlink():
                        _remove(target)
                    continue
                _check_no_symlink_parent(root, dest)
                if dest.exists() or dest.is_symlink():
                    if not (m.isdir() and dest.is_dir()):
                        _remove(dest)
                if m.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                    os.chmod(dest, m.mode & 0o7777)
                elif m.issym():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(m.linkname, dest)
                elif m.islnk():
                    src = _inside(root, m.linkname)
                    _check_no_symlink_parent(root, src)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.link(src, dest)
                elif m.isfile():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    fh = tar.extractfile(m)
                    assert fh is not None
                    with open(dest, "wb") as out:
                        while chunk := fh.read(1 << 20):
                            out.write(chunk)
                    os.chmod(dest, m.mode & 0o7777)
                else:
                    continue  # devices and fifos are not needed to run a Go binary
                if not m.issym():
                    os.chown(dest, m.uid, m.gid, follow_symlinks=False)
    return root


def _check_no_symlink_parent(root: Path, dest: Path) -> None:
    p = dest.parent
    while p != root and root in p.parents:
        if p.is_symlink():
            raise ImageFormatError(f"layer entry {dest.relative_to(root)} goes through a symlink")
        p = p.parent


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


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
