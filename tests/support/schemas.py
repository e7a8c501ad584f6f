"""Validate slimgo's JSON against the OCI image-spec schemas (draft-04), resolving `$ref`s by file name.

The schemas nest `id`s that move the base URI around; whatever URI a `$ref` resolves to, its last path
element names a file in the schema folder, so that is how we retrieve it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def validator(schemas: Path, name: str) -> Any:
    """jsonschema is a test extra: without it, a test that validates skips saying so (collection still works)."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (a test extra) is not installed")
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    def retrieve(uri: str) -> Resource:
        fname = uri.rsplit("/", 1)[-1].split("#")[0]
        if not fname.endswith(".json"):
            fname += ".json"
        return DRAFT4.create_resource(json.loads((schemas / fname).read_text()))

    registry: Registry = Registry(retrieve=retrieve)
    schema = json.loads((schemas / name).read_text())
    return jsonschema.Draft4Validator(schema, registry=registry)


def validate(schemas: Path, name: str, doc: object) -> None:
    validator(schemas, name).validate(doc)
