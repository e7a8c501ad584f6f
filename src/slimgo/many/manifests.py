"""Image references in Kubernetes manifests: find `slimgo://IMPORT/PATH` and `ko://IMPORT/PATH` scalars,
and replace each with `REPO@sha256:…`.

ruamel.yaml parses every document (so a broken file is refused before anything is built) and says where
each reference scalar starts; the replacement is spliced into the original text at that place. Nothing
else is re-emitted, so comments, anchors, key order, quoting and indentation stay byte-for-byte as written
(a YAML dumper would normalise indentation and line width). An alias (`*img`) points at its anchor's
scalar, which is replaced once where it is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput

SCHEMES = ("slimgo://", "ko://")


@dataclass(frozen=True)
class Manifest:
    name: str  # the file name, or "-" for stdin: for error messages
    text: str


@dataclass(frozen=True)
class Site:
    offset: int  # where the reference starts in the text
    ref: str  # the whole scalar, scheme included

    @property
    def import_path(self) -> str:
        return self.ref.split("://", 1)[1]


def _scalars(node: Any) -> Iterator[tuple[Any, int, int]]:
    """(value, line, column) of every scalar value in a round-trip tree (keys are not image references)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        children, where = node.items(), 2  # lc.data[key]: key line, key column, value line, value column
    elif isinstance(node, CommentedSeq):
        children, where = enumerate(node), 0  # lc.data[index]: line, column
    else:
        return
    for key, value in children:
        if not isinstance(value, str):
            yield from _scalars(value)
        elif (pos := node.lc.data.get(key)) is not None:
            yield value, pos[where], pos[where + 1]


def _is_import_path(path: str) -> bool:
    """A clean import path, as `go list` prints it: no folder (./, /), pattern (...), version (@), blank or
    empty, `.` or `..` element."""
    if path.startswith("/") or "@" in path or any(c.isspace() for c in path):
        return False
    return all(part not in ("", ".", "..") and "..." not in part for part in path.split("/"))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def sites(manifest: Manifest) -> list[Site]:
    """Every reference in the manifest, in text order. Bad YAML or a reference that is not written on one
    line (a folded scalar) is bad input."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    try:
        docs = list(yaml.load_all(manifest.text))
    except YAMLError as exc:
        raise BadInput(f"{manifest.name}: not valid YAML: {' '.join(str(exc).split())[:300]}") from None
    starts = _line_starts(manifest.text)
    found: dict[int, Site] = {}
    for doc in docs:
        for value, line, col in _scalars(doc):
            if not value.startswith(SCHEMES):
                continue
            at = starts[line] + col
            end = starts[line + 1] if line + 1 < len(starts) else len(manifest.text)
            hit = manifest.text.find(value, at, end)
            if hit < 0:
                if manifest.text[at:at + 1] == "*":  # an alias: its anchor's scalar is replaced where written
                    continue
                raise BadInput(f"{manifest.name}:{line + 1}: write {value} on one line to have it resolved")
            path = value.split("://", 1)[1]
            if not path:
                raise BadInput(f"{manifest.name}:{line + 1}: {value} names no import path")
            if not _is_import_path(path):  # images are keyed by go list's import path: it must be one already
                raise BadInput(f"{manifest.name}:{line + 1}: {value}: not an import path (write the program's full "
                               "import path, as `go list` prints it; not a folder, pattern or version)")
            found.setdefault(hit, Site(hit, value))
    return [found[k] for k in sorted(found)]


def rewrite(manifest: Manifest, found: list[Site], refs: dict[str, str]) -> str:
    """The manifest with each reference replaced by refs[import path]; every other byte as it was."""
    out: list[str] = []
    pos = 0
    for site in found:
        out.append(manifest.text[pos:site.offset])
        out.append(refs[site.import_path])
        pos = site.offset + len(site.ref)
    out.append(manifest.text[pos:])
    return "".join(out)


def join(texts: list[str]) -> str:
    """Several files as one stream, each a separate YAML document list (as kubectl and ko print them)."""
    parts = [t if t.endswith("\n") or not t else t + "\n" for t in texts]
    return "---\n".join(parts)
