"""What one pass over an image's layers leaves behind: entries, per-layer facts, ELF summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Entry kinds, one letter each: a million entries must stay small in memory.
FILE, DIR, SYMLINK, HARDLINK, OTHER = "f", "d", "l", "h", "o"
NOT_WHITEOUT, WHITEOUT, OPAQUE = 0, 1, 2


@dataclass(slots=True)
class Entry:
    path: str  # absolute, normalised; for a whiteout the path it deletes
    kind: str
    size: int  # the tar header's size (what dive counts)
    mode: int
    uid: int
    gid: int
    link: str = ""
    digest: bytes | None = None  # sha256 of a regular file's content
    caps: bool = False  # carries a security.capability xattr
    whiteout: int = NOT_WHITEOUT
    layer: int = 0
    dive_name: str = ""  # the node name dive gives it (".wh.x" for whiteouts); "" means the basename


@dataclass(frozen=True)
class GoInfo:
    go_version: str
    main_package: str
    main_module: str
    main_version: str
    deps: tuple[tuple[str, str], ...]
    settings: tuple[tuple[str, str], ...]
    needs: dict[str, bool] | None  # binary/needs.py, None when the function table is unreadable

    def setting(self, key: str) -> str:
        return dict(self.settings).get(key, "")


@dataclass(frozen=True)
class ElfInfo:
    machine: str
    dynamic: bool
    interpreter: str | None
    needed: tuple[str, ...]
    stripped_symbols: bool
    stripped_dwarf: bool
    go: GoInfo | None = None
    error: str = ""  # why the ELF could not be read fully


@dataclass
class LayerScan:
    index: int
    digest: str
    media_type: str
    compressed_bytes: int
    uncompressed_bytes: int = 0  # bytes of the decompressed tar stream, measured
    dive_bytes: int = 0  # the sum of the entries' header sizes (dive's layer size)
    entries: list[Entry] = field(default_factory=list)
    elfs: dict[str, ElfInfo] = field(default_factory=dict)
    shebangs: dict[str, str] = field(default_factory=dict)
    libraries: set[str] = field(default_factory=set)  # ELF files that are not programs (shared objects)
    private_keys: set[str] = field(default_factory=set)  # paths whose content is a PEM private key
    texts: dict[str, bytes] = field(default_factory=dict)  # small config files (passwd, ld.so.conf, ...)
    text_bytes: int = 0  # what `texts` is charged against Limits.max_texts
    created_by: str = ""
    history_index: int | None = None


@dataclass
class ImageScan:
    ref: str
    platform: str
    config: dict[str, Any]
    layers: list[LayerScan]
    manifest_digest: str = ""
