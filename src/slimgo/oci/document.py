"""Reading untrusted OCI JSON (index, manifest, config, Docker's manifest.json) into checked values.

Every field is checked for its JSON type where it is read, so `"manifests": "abc"`, `"layers": [1]` or
`"size": "abc"` give one line naming the document and the field, never a TypeError. Size is bounded
before parsing (a 100 MB index is refused unread) and the parser's recursion limit becomes a one-line error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import ImageFormatError
from ..limits import MAX_DOCUMENT
from .digest import Digest, parse_size


def load_json(data: bytes, what: str, *, limit: int = MAX_DOCUMENT) -> Any:
    if len(data) > limit:
        raise ImageFormatError(f"{what}: {len(data)} bytes, larger than the limit of {limit}")
    try:
        return json.loads(data)
    except RecursionError:
        raise ImageFormatError(f"{what}: JSON nested too deeply") from None
    except ValueError:
        raise ImageFormatError(f"{what}: not valid JSON") from None


def load_object(data: bytes, what: str, *, limit: int = MAX_DOCUMENT) -> dict[str, Any]:
    doc = load_json(data, what, limit=limit)
    if not isinstance(doc, dict):
        raise ImageFormatError(f"{what}: not a JSON object")
    return doc


def _type_name(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def get_object(doc: dict[str, Any], key: str, what: str, *, required: bool = False) -> dict[str, Any]:
    value = doc.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ImageFormatError(f"{what}: {key!r} must be an object, not {_type_name(value)}")
    return value


def get_list(doc: dict[str, Any], key: str, what: str, *, required: bool = False) -> list[Any]:
    value = doc.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ImageFormatError(f"{what}: {key!r} must be an array, not {_type_name(value)}")
    return value


def get_str(doc: dict[str, Any], key: str, what: str, *, required: bool = False) -> str:
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ImageFormatError(f"{what}: {key!r} must be a string, not {_type_name(value)}")
    return value


def objects(items: list[Any], what: str) -> list[dict[str, Any]]:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ImageFormatError(f"{what}[{i}] must be an object, not {_type_name(item)}")
    return items


def strings(items: list[Any], what: str) -> list[str]:
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ImageFormatError(f"{what}[{i}] must be a string, not {_type_name(item)}")
    return items


@dataclass(frozen=True)
class Desc:
    """A descriptor as read from an untrusted document: digest parsed, size checked."""

    media_type: str
    digest: Digest
    size: int
    platform: dict[str, Any]
    annotations: dict[str, Any]
    artifact_type: str = ""  # OCI 1.1: set on the descriptors of artifacts (SBOMs, provenance), never of images


def descriptor(doc: object, what: str) -> Desc:
    if not isinstance(doc, dict):
        raise ImageFormatError(f"{what}: a descriptor must be an object, not {_type_name(doc)}")
    return Desc(get_str(doc, "mediaType", what), Digest.parse(doc.get("digest"), what),
                parse_size(doc.get("size"), what), get_object(doc, "platform", what),
                get_object(doc, "annotations", what), get_str(doc, "artifactType", what))


def descriptors(doc: dict[str, Any], key: str, what: str) -> list[Desc]:
    return [descriptor(item, f"{what} {key}[{i}]") for i, item in enumerate(get_list(doc, key, what))]


def diff_ids(config: dict[str, Any], what: str) -> list[Digest]:
    rootfs = get_object(config, "rootfs", what)
    return [Digest.parse(d, f"{what} rootfs.diff_ids[{i}]")
            for i, d in enumerate(get_list(rootfs, "diff_ids", what))]
