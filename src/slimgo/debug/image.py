"""What makes an image a debug image: the compile flags, where Delve goes, the entrypoint and the labels."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from ..errors import BadInput
from ..strategy import DEFAULT_LDFLAGS, GoFlags

DLV_PATH = "usr/local/bin/dlv"
PORT = 2345
GCFLAGS = "all=-N -l"
LABEL = "dev.slimgo.debug"
LABEL_DELVE = "dev.slimgo.debug.delve"
# -s strips the symbol table and -w DWARF: with either, breakpoints cannot bind and variables cannot be read.
_STRIPPING = {"-s", "-w", "-s=true", "-w=true"}


@dataclass(frozen=True)
class DebugSettings:
    delve_version: str
    continue_: bool = False  # dlv --continue: the program runs before any client attaches


def debug_flags(flags: GoFlags, user_gcflags: str | None) -> GoFlags:
    """The release flags turned into debugger-friendly ones: no optimisation or inlining, symbols and
    DWARF kept. User ldflags that strip are refused rather than silently producing an undebuggable image."""
    if user_gcflags:
        raise BadInput(f"--gcflags {user_gcflags!r} cannot be combined with --debug (it sets -gcflags='{GCFLAGS}')")
    ldflags = flags.ldflags
    if ldflags.startswith(DEFAULT_LDFLAGS):
        ldflags = ldflags[len(DEFAULT_LDFLAGS):].strip()
    stripping = [a for a in shlex.split(ldflags) if a in _STRIPPING]
    if stripping:
        raise BadInput(f"--debug: ldflags {' '.join(stripping)} strip the symbols/DWARF the debugger needs")
    return replace(flags, ldflags=ldflags, gcflags=GCFLAGS)


def entrypoint(binary_name: str, app_dir: str, settings: DebugSettings, dlv: str = f"/{DLV_PATH}") -> list[str]:
    """`dlv exec` of the program; arguments given to `docker run` land after `--` and go to the program.
    `slimgo dockerfile --debug` uses it too, with Delve at its own path."""
    cmd = [dlv, "exec", "--headless", f"--listen=:{PORT}", "--api-version=2", "--accept-multiclient"]
    if settings.continue_:
        cmd.append("--continue")
    return [*cmd, f"/{app_dir}/{binary_name}", "--"]


def labels(settings: DebugSettings) -> dict[str, str]:
    return {LABEL: "true", LABEL_DELVE: settings.delve_version}


def debug_image_delve(config: object) -> str | None:
    """The Delve version of a debug image, from its config's labels; None for any other image. The config
    is untrusted JSON, so every level is type-checked rather than assumed."""
    inner = config.get("config") if isinstance(config, dict) else None
    found = inner.get("Labels") if isinstance(inner, dict) else None
    if not isinstance(found, dict) or found.get(LABEL) != "true":
        return None
    return str(found.get(LABEL_DELVE, ""))
