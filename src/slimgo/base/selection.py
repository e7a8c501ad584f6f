"""Which static base a program gets: only the parts its linked functions can use (see binary/needs.py)."""

from __future__ import annotations

from ..binary.needs import Needs
from .static import StaticBaseSpec

KEEP_EVERYTHING_HINT = "use --base static-full to keep everything"


def static_spec_for(needs: Needs | None, name: str) -> tuple[StaticBaseSpec, list[str]]:
    """The static base for a binary and notes saying what was left out and why. Without readable needs
    (a packed binary) nothing is left out: a need is never guessed away."""
    if needs is None:
        return StaticBaseSpec(), [f"{name}: function table unreadable (packed?): the base keeps CA roots and zoneinfo"]
    notes = []
    if not needs.ca_roots:
        notes.append(f"{name}: CA bundle left out of the base (the program never loads system TLS roots)")
    if not needs.zoneinfo:
        why = "time/tzdata is embedded" if needs.tzdata_embedded else "the program never loads time zones"
        notes.append(f"{name}: zoneinfo left out of the base ({why})")
    if notes:
        notes.append(KEEP_EVERYTHING_HINT)
    return StaticBaseSpec(ca_roots=needs.ca_roots, zoneinfo=needs.zoneinfo), notes
