"""Several images in one OCI layout, one docker-archive or one engine load (`build ./...` with
`--oci-layout`, `--tarball`, `--load`).

Each image brings the files its own layout would have (content.py); blobs that several images share are
written once. In index.json every image's `org.opencontainers.image.ref.name` is its full name and tag
(`REPO:latest`, the same as `io.containerd.image.name`), since tags alone would collide; a skopeo user
reads one image as `oci:DIR:REPO:latest`. The docker-archive's manifest.json lists each image (the
host's platform of a multi-platform one) with its RepoTags, so `docker load` names them all.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..oci.mediatypes import OCI_INDEX
from ..oci.model import canonical_json
from .archive import write_archive_items
from .content import LAYOUT_FILE, LAYOUT_VERSION, FileItem, Published, blob_items, docker_manifest, index_json
from .daemon import load_archive
from .layout import write_layout_items

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


def many_items(pubs: Sequence[Published], host_arch: str | None = None) -> list[FileItem]:
    """The layout's files for every image; with host_arch, also the docker-archive's manifest.json."""
    blobs: dict[str, FileItem] = {}
    entries: list[dict[str, object]] = []
    docker: list[object] = []
    for pub in pubs:
        for item in blob_items(pub):
            blobs.setdefault(item.path, item)
        for entry in json.loads(index_json(pub))["manifests"]:
            ann = entry.get("annotations") or {}
            if CONTAINERD_NAME in ann:
                ann[REF_NAME] = ann[CONTAINERD_NAME]
            entries.append(entry)
        if host_arch is not None:
            docker += json.loads(docker_manifest(pub.image_for(host_arch), pub.tags))
    index = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    items = [FileItem(LAYOUT_FILE, data=LAYOUT_VERSION), FileItem("index.json", data=index),
             *(blobs[k] for k in sorted(blobs))]
    if host_arch is not None:
        items.append(FileItem("manifest.json", data=json.dumps(docker, separators=(",", ":")).encode()))
    return items


def write_many_layout(dest: Path, pubs: Sequence[Published]) -> Path:
    return write_layout_items(dest, many_items(pubs))


def write_many_archive(dest: Path, pubs: Sequence[Published], host_arch: str) -> Path:
    return write_archive_items(dest, many_items(pubs, host_arch))


def load_many(pubs: Sequence[Published], host_arch: str) -> list[str]:
    """One archive of every image, posted to the engine once; its 'Loaded image' lines."""
    with tempfile.TemporaryDirectory(prefix="slimgo-load-") as tmp:
        return load_archive(write_many_archive(Path(tmp) / "load.tar", pubs, host_arch))
