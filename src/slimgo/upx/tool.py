"""The UPX executable: where it is, which version, and the two calls slimgo makes (pack, test).

slimgo never ships UPX: users install it from their package manager. The lookup order is an explicit
path (`--upx-path`), then `$SLIMGO_UPX`, then `PATH`. An explicit path or variable that does not point at
a working UPX is an error, never a silent fall-through to another copy.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput, CheckFailed, ToolMissing

ENV_VAR = "SLIMGO_UPX"
DEFAULT_ARGS = ("--best", "--lzma")
INSTALL_HINT = "install it (apt install upx-ucl, apk add upx, brew install upx) or give --upx-path / $SLIMGO_UPX"
# arm64 ELF support arrived in UPX 3.94; older releases cannot pack what Go emits for it.
MIN_VERSION = (3, 94)
# Options that only choose the compression. Anything else (-o, -d, -t, -k, --force, overlays...) would change
# what file is written or how, which slimgo decides itself.
_ALLOWED = re.compile(r"^(-[1-9]|--best|--lzma|--brute|--ultra-brute|--nrv2[bde]|--no-lzma|--all-methods"
                      r"|--all-filters|--no-filter|--filter=\d+)$")
TIMEOUT = 600.0  # --ultra-brute on a 100 MB binary is slow; a hung UPX must still end


class UpxFailed(CheckFailed):
    """UPX could not pack or verify a binary: the checked thing failed (exit 1)."""


@dataclass(frozen=True)
class Upx:
    path: Path
    version: str  # "4.2.3"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", self.version)[:3])


def _probe(path: Path, where: str) -> Upx:
    try:
        proc = subprocess.run([str(path), "--version"], check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BadInput(f"{where} {path}: cannot run it ({exc})") from None
    first = (proc.stdout.splitlines() or [""])[0].strip()
    match = re.match(r"upx (\d+\.\d+(?:\.\d+)?)", first)
    if proc.returncode != 0 or match is None:
        raise BadInput(f"{where} {path}: not UPX (`--version` printed {first[:60]!r})")
    upx = Upx(path, match.group(1))
    if upx.version_tuple < MIN_VERSION:
        raise BadInput(f"{where} {path}: UPX {upx.version} is too old (need >= 3.94 for arm64 and Go binaries)")
    return upx


def find(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Upx | None:
    """The UPX to use, or None when none is installed. A named one that is broken raises BadInput."""
    env = os.environ if environ is None else environ
    for value, where in ((explicit, "--upx-path"), (env.get(ENV_VAR), f"${ENV_VAR}")):
        if value:
            path = Path(value)
            if not path.is_file() or not os.access(path, os.X_OK):
                raise BadInput(f"{where} {value}: not an executable file")
            return _probe(path.resolve(), where)
    found = shutil.which("upx", path=env.get("PATH"))
    return _probe(Path(found), "upx on PATH") if found else None


def require(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Upx:
    upx = find(explicit, environ)
    if upx is None:
        raise ToolMissing(f"UPX is not installed: {INSTALL_HINT}")
    return upx


def parse_args(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """The user's compression options, checked before anything is compiled."""
    if text is None:
        return DEFAULT_ARGS
    try:
        args = tuple(shlex.split(text)) if isinstance(text, str) else tuple(text)
    except ValueError as exc:
        raise BadInput(f"--upx-args: {exc}") from None
    bad = [a for a in args if not _ALLOWED.match(a)]
    if bad:
        raise BadInput(f"--upx-args: {bad[0]!r} is not a compression option (allowed: -1..-9, --best, --lzma, "
                       "--brute, --ultra-brute, --nrv2b/d/e, --no-lzma, --all-methods, --all-filters, --filter=N)")
    return args or DEFAULT_ARGS


def _output(proc: subprocess.CompletedProcess[str], path: Path) -> str:
    """UPX's own error line, without the work-directory path it prefixes (`upx: /tmp/.../app: ...`)."""
    lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip().startswith("upx:")]
    text = lines[-1].removeprefix("upx:").strip() if lines else (proc.stderr or proc.stdout).strip()[-200:]
    return text.replace(f"{path}: ", "").replace(str(path), path.name)


def pack(upx: Upx, src: Path, dest: Path, args: Sequence[str] = DEFAULT_ARGS) -> None:
    """Pack src into dest (a new file; src is left as it was)."""
    if dest.exists():
        dest.unlink()
    try:
        proc = subprocess.run([str(upx.path), "-q", "-q", *args, "-o", str(dest), str(src)], check=False, capture_output=True,
                              text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        dest.unlink(missing_ok=True)
        raise UpxFailed(f"upx did not finish packing {src.name} within {TIMEOUT:.0f} s") from None
    if proc.returncode != 0 or not dest.is_file():
        dest.unlink(missing_ok=True)
        raise UpxFailed(f"upx could not pack {src.name}: {_output(proc, src)}")


def test(upx: Upx, path: Path) -> str:
    """`upx -t`: UPX decompresses in memory and checks the checksums. '' when it passes, else why not."""
    try:
        proc = subprocess.run([str(upx.path), "-q", "-q", "-t", str(path)], check=False, capture_output=True, text=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"upx -t did not finish within {TIMEOUT:.0f} s"
    return "" if proc.returncode == 0 else f"upx -t failed: {_output(proc, path)}"
