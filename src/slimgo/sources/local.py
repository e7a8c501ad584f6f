"""Read images from an OCI layout directory, a docker-archive tar or a Docker engine, verifying every blob.

All give the same thing: for each platform, the config and an opener per layer. Nothing is unpacked to
disk; readers stream layer tars from the blobs. Everything read is untrusted: digests are parsed strictly
before they name a file, documents are size-bounded and type-checked (`oci/document.py`), blobs are opened
without following symlinks, an index is walked once per manifest however many paths lead to it, and each
layer opener returns a `DigestingReader` bound to the layer's digest and declared size. A layer's diff_id
(from the config) travels with it: whoever decompresses the layer checks it, which is also what checks a
Docker `manifest.json` archive, whose layers are named by path rather than digest.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import BadInput, ImageFormatError
from ..limits import (
    MAX_ARCHIVE_ENTRIES,
    MAX_DOCUMENT,
    MAX_INDEX_DEPTH,
    MAX_LAYERS,
    MAX_MANIFESTS,
)
from ..oci import document as doc_mod
from ..oci.digest import Digest, read_verified, verifying
from ..oci.mediatypes import INDEXES, MANIFESTS
from ..oci.transports import DOCKER_ARCHIVE, DOCKER_DAEMON, OCI_LAYOUT, TRANSPORTS, ImageSpec, split
from ..platform import Platform
from ..supplychain.sign import KIND_ANNOTATION, SIGNATURE_KINDS

REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(frozen=True)
class SourceLayer:
    digest: str       # the blob's digest ("" for a Docker manifest.json layer, named by path)
    media_type: str
    size: int
    open: Callable[[], IO[bytes]]  # a verifying reader: digest and size checked at EOF
    diff_id: str = ""  # digest of the decompressed tar, from the config; checked by whoever decompresses
    name: str = ""     # what to call the layer in messages

    @property
    def label(self) -> str:
        return self.digest or self.name


@dataclass(frozen=True)
class SourceImage:
    ref: str
    platform: Platform
    config: dict[str, Any]
    layers: tuple[SourceLayer, ...]
    manifest_digest: str = ""


BlobOpener = Callable[[Digest], "IO[bytes] | None"]


class _Blobs:
    """Blob access by parsed digest, for a directory or a tar."""

    def __init__(self, opener: BlobOpener, where: str) -> None:
        self._open = opener
        self.where = where

    def document(self, digest: Digest, size: int | None, what: str) -> dict[str, Any]:
        fh = self._open(digest)
        if fh is None:
            raise ImageFormatError(f"{self.where}: {what} {digest} is missing")
        if size is not None and size > MAX_DOCUMENT:
            fh.close()
            raise ImageFormatError(f"{self.where}: {what} {digest} declares {size} bytes, "
                                   f"larger than the limit of {MAX_DOCUMENT}")
        data = read_verified(fh, digest, size=size, limit=MAX_DOCUMENT, what=f"{what} {digest}")
        return doc_mod.load_object(data, f"{what} {digest}")

    def layer(self, desc: doc_mod.Desc, diff_id: Digest) -> SourceLayer:
        digest = desc.digest

        def opener() -> IO[bytes]:
            fh = self._open(digest)
            if fh is None:
                raise ImageFormatError(f"{self.where}: layer {digest} is missing")
            return verifying(fh, digest, size=desc.size, what=f"layer {digest}")

        return SourceLayer(str(digest), desc.media_type, desc.size, opener, str(diff_id), str(digest))


def _image(blobs: _Blobs, desc: doc_mod.Desc, ref: str) -> SourceImage:
    manifest = blobs.document(desc.digest, desc.size, "manifest")
    what = f"manifest {desc.digest}"
    cfg = doc_mod.descriptor(manifest.get("config"), f"{what} config")
    config = blobs.document(cfg.digest, cfg.size, "config")
    descs = doc_mod.descriptors(manifest, "layers", what)
    if len(descs) > MAX_LAYERS:
        raise ImageFormatError(f"{what}: {len(descs)} layers, more than the limit of {MAX_LAYERS}")
    diff_ids = doc_mod.diff_ids(config, f"config {cfg.digest}")
    if len(diff_ids) != len(descs):
        raise ImageFormatError(f"{ref}: config lists {len(diff_ids)} diff_ids for {len(descs)} layers")
    layers = tuple(blobs.layer(d, diff) for d, diff in zip(descs, diff_ids))
    return SourceImage(ref, Platform.from_oci(config), config, layers, str(desc.digest))


def _images_from_index(blobs: _Blobs, index: dict[str, Any], ref: str, wanted_tag: str | None) -> list[SourceImage]:
    """Every image the index reaches, each manifest once (diamonds are not re-walked), depth-bounded."""
    top = doc_mod.descriptors(index, "manifests", "index")
    if wanted_tag is not None:
        top = [d for d in top if d.annotations.get(REF_NAME) == wanted_tag]
        if not top:
            raise BadInput(f"{ref}: no image tagged {wanted_tag!r}")
    out: list[SourceImage] = []
    seen: set[Digest] = set()
    stack = [(d, 1) for d in reversed(top)]
    while stack:
        desc, depth = stack.pop()
        if desc.digest in seen or desc.artifact_type or desc.annotations.get(KIND_ANNOTATION) in SIGNATURE_KINDS:
            continue  # SBOMs, provenance and cosign's signatures refer to images; they are none
        seen.add(desc.digest)
        if len(seen) > MAX_MANIFESTS:
            raise ImageFormatError(f"{ref}: more than {MAX_MANIFESTS} manifests reachable from the index")
        if desc.media_type in INDEXES:
            if depth >= MAX_INDEX_DEPTH:
                raise ImageFormatError(f"{ref}: indexes nested deeper than {MAX_INDEX_DEPTH} levels")
            child = blobs.document(desc.digest, desc.size, "index")
            stack.extend((d, depth + 1) for d in reversed(doc_mod.descriptors(child, "manifests", f"index {desc.digest}")))
        elif desc.media_type in MANIFESTS or not desc.media_type:
            out.append(_image(blobs, desc, ref))
    return out


# ---- OCI layout directory ---------------------------------------------------------------------------------

def _open_in(root_fd: int, parts: tuple[str, ...]) -> IO[bytes] | None:
    """Open root/parts… as a regular file, following no symlink on the way (a layout's blob must not
    point at a host file)."""
    fd = root_fd
    opened: list[int] = []
    try:
        for part in parts[:-1]:
            fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            opened.append(fd)
        leaf = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    except OSError:
        return None
    finally:
        for f in opened:
            os.close(f)
    if not stat.S_ISREG(os.fstat(leaf).st_mode):
        os.close(leaf)
        return None
    os.set_blocking(leaf, True)
    return os.fdopen(leaf, "rb")


def open_layout(image_spec: ImageSpec) -> list[SourceImage]:
    """`oci:DIR[:tag]`."""
    spec, body = image_spec.text, image_spec.rest
    path_str, tag = body, None
    if ":" in body and not Path(body).exists():
        path_str, tag = body.rsplit(":", 1)
    root = Path(path_str)
    if not (root / "index.json").is_file():
        raise BadInput(f"{spec}: not an OCI image layout (no index.json)")
    try:
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise BadInput(f"{spec}: cannot open ({exc.strerror})") from None
    try:
        index_fh = _open_in(root_fd, ("index.json",))
        if index_fh is None:
            raise ImageFormatError(f"{spec}: index.json is not a regular file")
        index = doc_mod.load_object(read_verified(index_fh, None, limit=MAX_DOCUMENT, what=f"{spec}: index.json"),
                                    f"{spec}: index.json")
    finally:
        os.close(root_fd)

    def opener(digest: Digest) -> IO[bytes] | None:
        try:
            fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return None
        try:
            return _open_in(fd, ("blobs", *digest.parts))
        finally:
            os.close(fd)

    return _images_from_index(_Blobs(opener, spec), index, spec, tag)


# ---- docker-archive ---------------------------------------------------------------------------------------

def forget_members(tar: tarfile.TarFile) -> None:
    """tarfile appends every TarInfo it reads to `members`, even when streaming: 1M tiny entries would
    stay in memory. Callers that keep what they need call this after each entry."""
    tar.__dict__["members"].clear()


def _member_name(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


class _Archive:
    """The regular files of a tar, by normalised name, without tarfile keeping every member in memory."""

    def __init__(self, tar: tarfile.TarFile, spec: str) -> None:
        self.tar, self.spec = tar, spec
        self.files: dict[str, tarfile.TarInfo] = {}
        self.links: dict[str, str] = {}
        for count, m in enumerate(tar, 1):
            if count > MAX_ARCHIVE_ENTRIES:
                raise ImageFormatError(f"{spec}: more than {MAX_ARCHIVE_ENTRIES} entries in the archive")
            name = _member_name(m.name)
            if m.isreg():
                self.files[name] = m
            elif m.issym():
                self.links[name] = _member_name(posixpath.join(posixpath.dirname(name), m.linkname))
            elif m.islnk():
                self.links[name] = _member_name(m.linkname)
            forget_members(tar)

    def member(self, name: str) -> tarfile.TarInfo | None:
        name = _member_name(name)
        for _ in range(8):  # docker save links duplicate layers to the first copy
            if name in self.files:
                return self.files[name]
            if name not in self.links:
                return None
            name = self.links[name]
        return None

    def open(self, name: str) -> IO[bytes] | None:
        m = self.member(name)
        return self.tar.extractfile(m) if m is not None else None

    def read(self, name: str, expected: Digest | None, what: str) -> bytes | None:
        fh = self.open(name)
        if fh is None:
            return None
        return read_verified(fh, expected, limit=MAX_DOCUMENT, what=f"{self.spec}: {what}")


def open_archive(image_spec: ImageSpec) -> list[SourceImage]:
    """`docker-archive:FILE`: an OCI layout in a tar if it has index.json, else Docker's manifest.json."""
    spec = image_spec.text
    path = Path(image_spec.rest)
    if not path.is_file():
        raise BadInput(f"{spec}: no such file")
    try:
        tar = tarfile.open(path)
    except tarfile.TarError:
        raise BadInput(f"{spec}: not a tar archive") from None
    try:
        archive = _Archive(tar, spec)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ImageFormatError(f"{spec}: unreadable archive ({exc})") from None

    if archive.member("index.json") is not None:
        index = doc_mod.load_object(archive.read("index.json", None, "index.json") or b"", f"{spec}: index.json")
        return _images_from_index(_Blobs(lambda d: archive.open("blobs/" + "/".join(d.parts)), spec),
                                  index, spec, None)
    raw = archive.read("manifest.json", None, "manifest.json")
    if raw is None:
        raise BadInput(f"{spec}: neither index.json nor manifest.json in the archive")
    entries = doc_mod.load_json(raw, f"{spec}: manifest.json")
    if not isinstance(entries, list):
        raise ImageFormatError(f"{spec}: manifest.json must be an array")
    return [_docker_image(archive, entry, spec, i)
            for i, entry in enumerate(doc_mod.objects(entries, f"{spec}: manifest.json"))]


def _config_digest(name: str) -> Digest | None:
    """Docker names the config by its digest (`<hex>.json` or `blobs/sha256/<hex>`): verify it if so."""
    stem = posixpath.basename(name).removesuffix(".json")
    algo = posixpath.basename(posixpath.dirname(name)) if "/" in name else "sha256"
    try:
        return Digest.parse(f"{algo}:{stem}")
    except ImageFormatError:
        return None


def _docker_image(archive: _Archive, entry: dict[str, Any], spec: str, i: int) -> SourceImage:
    what = f"{spec}: manifest.json[{i}]"
    cfg_name = doc_mod.get_str(entry, "Config", what, required=True)
    names = doc_mod.strings(doc_mod.get_list(entry, "Layers", what), f"{what} Layers")
    if len(names) > MAX_LAYERS:
        raise ImageFormatError(f"{what}: {len(names)} layers, more than the limit of {MAX_LAYERS}")
    config_bytes = archive.read(cfg_name, _config_digest(cfg_name), f"config {cfg_name}")
    if config_bytes is None:
        raise ImageFormatError(f"{spec}: config {cfg_name} missing")
    config = doc_mod.load_object(config_bytes, f"{spec}: config {cfg_name}")
    diff_ids = doc_mod.diff_ids(config, f"{spec}: config {cfg_name}")
    if len(diff_ids) != len(names):
        raise ImageFormatError(f"{spec}: config lists {len(diff_ids)} diff_ids for {len(names)} layers")
    layers = []
    for name, diff_id in zip(names, diff_ids):
        m = archive.member(name)
        if m is None:
            raise ImageFormatError(f"{spec}: layer {name} missing")

        def opener(m: tarfile.TarInfo = m, name: str = name) -> IO[bytes]:
            fh = archive.tar.extractfile(m)
            assert fh is not None
            return verifying(fh, None, size=m.size, what=f"{spec}: layer {name}")

        layers.append(SourceLayer("", "", m.size, opener, str(diff_id), name))
    return SourceImage(spec, Platform.from_oci(config), config, tuple(layers))


def open_image(text: str, work: Path | None = None) -> list[SourceImage]:
    """Every platform's image behind a transport reference; `docker-daemon:` needs a work directory to save
    the engine's archive into (without one, only the offline transports are accepted)."""
    spec = split(text)
    if spec.transport is OCI_LAYOUT:
        return open_layout(spec)
    if spec.transport is DOCKER_ARCHIVE:
        return open_archive(spec)
    if spec.transport is DOCKER_DAEMON and work is not None:
        from .daemon import save_image

        archive = save_image(spec.rest, work / "daemon-image.tar")
        return open_archive(split(f"{DOCKER_ARCHIVE.prefix}{archive}"))
    usable = [t.syntax for t in TRANSPORTS if t.offline or work is not None]
    raise BadInput(f"{text}: unknown image reference (use {' or '.join(usable)})")
