"""Every limit slimgo enforces on untrusted input, in one place (docs/security.md lists them).

Values follow what registries and engines accept, so a real image never meets them; a crafted one stops at
the limit with a one-line error instead of filling memory, disk or time.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1 << 20
GiB = 1 << 30

MAX_DOCUMENT = 4 * MiB          # manifest, index, config, index.json, manifest.json (registries use 4 MiB)
MAX_TOKEN = 1 * MiB             # a token endpoint's answer
MAX_ERROR_BODY = 64 << 10       # what is read of a registry's error answer
MAX_INDEX_DEPTH = 8             # index → index → … → manifest
MAX_MANIFESTS = 4096            # manifests reachable from one index (each walked once)
MAX_LAYERS = 1024               # layers of one image
MAX_ARCHIVE_ENTRIES = 100_000   # entries of a docker-archive tar (the archive itself, not a layer)
MAX_LAYER_TAR = 16 * GiB        # one layer's decompressed tar (gzip bombs stop here)


@dataclass(frozen=True)
class UnpackLimits:
    """Bounds on a whole image's layers when they are unpacked or scanned."""

    total_bytes: int = 16 * GiB   # decompressed tar bytes over all layers
    entries: int = 1_000_000      # tar entries over all layers
    file_bytes: int = 4 * GiB     # one regular file
    max_ratio: int = 100          # decompressed / compressed bytes of a layer, checked once past ratio_after:
    ratio_after: int = 1 * GiB    # a gzip bomb stops near 1 GiB instead of filling the disk


DEFAULT_UNPACK = UnpackLimits()

# Registry transport
REQUEST_DEADLINE = 600.0        # seconds for one request, retries included, small requests
MIN_RATE = 64 << 10             # bytes/s a download must keep up (measured over MIN_RATE_WINDOW)
MIN_RATE_WINDOW = 30.0          # seconds
CONNECT_TIMEOUT = 30.0
READ_TIMEOUT = 60.0
MAX_TRIES = 6
