"""Image timestamps: `SOURCE_DATE_EPOCH` (reproducible-builds.org) or the Unix epoch, in RFC 3339."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from .errors import BadInput

EPOCH_ZERO = "1970-01-01T00:00:00Z"  # every timestamp slimgo writes when no SOURCE_DATE_EPOCH is given


def source_date_epoch(env: Mapping[str, str]) -> int:
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds") from None
    if value < 0:
        raise BadInput("SOURCE_DATE_EPOCH must not be negative")
    return value


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
