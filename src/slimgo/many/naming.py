"""Repository names for many images under one prefix, with ko's four strategies (so ko users get the names
they already deploy).

hashed (ko's default)     PREFIX/<last element>-<md5 of the import path>: unique, and flat for Docker Hub
base (-B)                 PREFIX/<last element>: readable; two programs with the same last element collide
preserve (-P)             PREFIX/<import path, lower-cased>
bare                      PREFIX itself: only for one program
"""

from __future__ import annotations

import hashlib
from enum import Enum

from ..errors import BadInput


class Naming(Enum):
    HASHED = "hashed"
    BASE = "base"
    PRESERVE = "preserve"
    BARE = "bare"


def repository(prefix: str, import_path: str, naming: Naming) -> str:
    prefix = prefix.rstrip("/")
    last = import_path.rstrip("/").rsplit("/", 1)[-1]
    if naming is Naming.BARE:
        return prefix
    if naming is Naming.BASE:
        return f"{prefix}/{last}".lower()
    if naming is Naming.PRESERVE:
        return f"{prefix}/{import_path}".lower()
    digest = hashlib.md5(import_path.encode(), usedforsecurity=False).hexdigest()
    return f"{prefix}/{last}-{digest}".lower()


def repositories(prefix: str, import_paths: list[str], naming: Naming) -> dict[str, str]:
    """import path → repository; two programs given one repository is bad input, named before any build."""
    names: dict[str, str] = {}
    owner: dict[str, str] = {}
    for path in import_paths:
        repo = repository(prefix, path, naming)
        if repo in owner:
            raise BadInput(f"{owner[repo]} and {path} would both push to {repo} (--{naming.value} naming); "
                           "use the default naming or --preserve-import-paths")
        owner[repo] = path
        names[path] = repo
    return names
