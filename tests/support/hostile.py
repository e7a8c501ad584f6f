"""A generator of crafted inputs: layer tars, OCI layouts, docker-archives and ELF files, each built from
a small description so that a test states the attack in one line.

Nothing here is a fake of slimgo: these are real tars, layouts and archives, as a hostile base would ship.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class E:
    """One tar entry: kind is file, dir, sym, link (hard) or fifo."""

    name: str
    kind: str = "file"
    data: bytes = b""
    target: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


def dir_(name: str, mode: int = 0o755) -> E:
    return E(name, "dir", mode=mode)


def sym(name: str, target: str) -> E:
    return E(name, "sym", target=target, mode=0o777)


def link(name: str, target: str) -> E:
    return E(name, "link", target=target)


def tar_bytes(entries: Iterable[E]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.mode, info.uid, info.gid = e.mode, e.uid, e.gid
            if e.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, e.target
                tar.addfile(info)
            elif e.kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, e.target
                tar.addfile(info)
            elif e.kind == "fifo":
                info.type = tarfile.FIFOTYPE
                tar.addfile(info)
            else:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
    return buf.getvalue()


def many_entries_tar(count: int) -> bytes:
    """A tar of `count` empty files, written header by header (fast, no tarfile bookkeeping)."""
    out = io.BytesIO()
    for i in range(count):
        info = tarfile.TarInfo(f"f{i}")
        out.write(info.tobuf(format=tarfile.USTAR_FORMAT))
    out.write(b"\0" * 1024)
    return out.getvalue()


def gzip_bomb(decompressed: int) -> bytes:
    """A gzip stream of a tar holding one file of `decompressed` zero bytes, compressed in one pass."""
    import zlib

    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    info = tarfile.TarInfo("zeros")
    info.size = decompressed
    parts = [comp.compress(info.tobuf(format=tarfile.PAX_FORMAT))]
    block = b"\0" * (1 << 20)
    left = decompressed
    while left > 0:
        n = min(left, len(block))
        parts.append(comp.compress(block[:n]))
        left -= n
    parts.append(comp.compress(b"\0" * (1024 + (-decompressed) % 512)))
    parts.append(comp.flush())
    return b"".join(parts)


@dataclass
class Blob:
    data: bytes
    media_type: str = OCI_LAYER

    @property
    def digest(self) -> str:
        return sha(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data), **extra}


def layer(entries: Iterable[E], *, compress: bool = False) -> Blob:
    raw = tar_bytes(entries)
    return Blob(gzip.compress(raw, mtime=0), OCI_LAYER_GZIP) if compress else Blob(raw)


def diff_id(blob: Blob) -> str:
    return sha(gzip.decompress(blob.data) if blob.media_type == OCI_LAYER_GZIP else blob.data)


def config_for(layers: list[Blob], arch: str = "amd64", **extra: Any) -> Blob:
    doc = {"architecture": arch, "os": "linux", "config": {"Entrypoint": ["/app"]},
           "rootfs": {"type": "layers", "diff_ids": [diff_id(b) for b in layers]}, **extra}
    return Blob(json.dumps(doc).encode(), OCI_CONFIG)


def manifest_for(config: Blob, layers: list[Blob], *, layer_descs: list[Any] | None = None) -> Blob:
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config.descriptor(),
           "layers": layer_descs if layer_descs is not None else [b.descriptor() for b in layers]}
    return Blob(json.dumps(doc).encode(), OCI_MANIFEST)


@dataclass
class Layout:
    """An OCI layout: blobs by digest plus index.json (raw bytes, so it can be anything)."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    index: bytes = b""
    extra_files: dict[str, bytes] = field(default_factory=dict)  # path -> bytes, written as is

    def add(self, *blobs: Blob) -> None:
        for b in blobs:
            self.blobs[b.digest] = b.data

    def write(self, root: Path) -> Path:
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        (root / "index.json").write_bytes(self.index)
        for digest, data in self.blobs.items():
            (root / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
        for rel, data in self.extra_files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return root

    def archive(self, dest: Path, *, extra: dict[str, bytes] | None = None) -> Path:
        """The same layout as a docker-archive tar (OCI layout inside a tar)."""
        with tarfile.open(dest, "w") as tar:
            files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": self.index,
                     **{f"blobs/sha256/{d.split(':', 1)[1]}": data for d, data in self.blobs.items()},
                     **(extra or {})}
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return dest


def image_layout(layers: list[Blob], *, tag: str = "t", config: Blob | None = None,
                 manifest: Blob | None = None) -> Layout:
    cfg = config or config_for(layers)
    man = manifest or manifest_for(cfg, layers)
    lay = Layout()
    lay.add(cfg, man, *layers)
    lay.index = json.dumps({"schemaVersion": 2, "manifests": [
        man.descriptor(annotations={"org.opencontainers.image.ref.name": tag})]}).encode()
    return lay


def docker_save_archive(dest: Path, layers: list[bytes], *, diff_ids: list[str] | None = None,
                        manifest: Any = None) -> Path:
    """A Docker `manifest.json` archive (docker save before 25): `<hex>.json` config, `<n>/layer.tar`."""
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": diff_ids or [sha(b) for b in layers]}}).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    names = [f"{i}/layer.tar" for i in range(len(layers))]
    doc = manifest if manifest is not None else [{"Config": cfg_name, "RepoTags": ["x:1"], "Layers": names}]
    with tarfile.open(dest, "w") as tar:
        files = {cfg_name: cfg, "manifest.json": json.dumps(doc).encode(),
                 **{n: data for n, data in zip(names, layers)}}
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every path under root with its type, mode, owner, link target or content hash (no symlink is
    followed), for "nothing outside changed" assertions and for comparing two unpackers."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("sym", os.readlink(p), st.st_uid, st.st_gid)
            elif p.is_dir():
                out[rel] = ("dir", oct(st.st_mode & 0o7777), st.st_uid, st.st_gid)
            else:
                out[rel] = ("file", oct(st.st_mode & 0o7777), st.st_uid, st.st_gid,
                            hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def source_layers(blobs: list[Blob]) -> tuple[Any, ...]:
    """The blobs as slimgo SourceLayers (verifying openers), for in-process unpacking."""
    from slimgo.oci.digest import Digest, verifying
    from slimgo.sources.local import SourceLayer

    def opener(b: Blob) -> Callable[[], IO[bytes]]:
        return lambda: verifying(io.BytesIO(b.data), Digest.parse(b.digest), size=len(b.data))

    return tuple(SourceLayer(b.digest, b.media_type, len(b.data), opener(b), diff_id(b), b.digest) for b in blobs)


def elf_header_only(size: int = 64) -> bytes:
    """The start of an ELF64 little-endian x86-64 executable, with no valid tables: corrupt, not Go."""
    import struct

    hdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    hdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, 64, 0xFFFFFFFFFF, 0, 64, 56, 1, 64, 40, 0)
    return hdr + b"\0" * max(0, size - len(hdr))


def build_elf(sections: list[tuple[str, int, bytes]] = (), segments: list[tuple[int, int, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    """An ELF64 little-endian x86-64 file with the given sections (name, sh_type, bytes) and program
    segments (p_type, p_flags, bytes): valid headers around whatever hostile contents a test needs."""
    import struct

    ph_off = 64
    cursor = ph_off + 56 * len(segments)
    blobs: list[tuple[int, bytes]] = []

    def place(data: bytes) -> int:
        nonlocal cursor
        cursor += (-cursor) % 16
        off = cursor
        blobs.append((off, data))
        cursor += len(data)
        return off

    seg_offs = [place(data) for _, _, data in segments]
    sec_offs = [place(data) for _, _, data in sections]
    names = b"\0"
    name_offs = []
    for name, _, _ in list(sections) + [(".shstrtab", 3, b"")]:
        name_offs.append(len(names))
        names += name.encode() + b"\0"
    shstr_off = place(names)
    cursor += (-cursor) % 16
    sh_off = cursor
    shnum = len(sections) + 2
    out = bytearray(sh_off + 64 * shnum)
    out[:16] = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    struct.pack_into("<HHIQQQIHHHHHH", out, 16, 2, 62, 1, 0, ph_off if segments else 0, sh_off, 0, 64, 56,
                     len(segments), 64, shnum, shnum - 1)
    for i, ((p_type, p_flags, data), off) in enumerate(zip(segments, seg_offs)):
        struct.pack_into("<IIQQQQQQ", out, ph_off + 56 * i, p_type, p_flags, off, 0x400000 + off, 0x400000 + off,
                         len(data), len(data), 0x1000)
    for off, data in blobs:
        out[off:off + len(data)] = data
    entries = [(name_offs[i], sections[i][1], sec_offs[i], len(sections[i][2])) for i in range(len(sections))]
    entries.append((name_offs[-1], 3, shstr_off, len(names)))
    for i, (name_off, sh_type, off, size) in enumerate(entries, 1):
        struct.pack_into("<IIQQQQIIQQ", out, sh_off + 64 * i, name_off, sh_type, 0, 0x400000 + off, off, size,
                         0, 0, 1, 24 if sh_type == 2 else 0)
    return bytes(out)


def pclntab_120(nfunc: int, nametab: bytes, nameoff_of: Callable[[int], int]) -> bytes:
    """A Go 1.20 function table whose nfunc entries name nameoff_of(i) in nametab."""
    import struct

    header_words = 8
    hdr_len = 8 + 8 * header_words
    nametab_off = hdr_len
    functab_off = nametab_off + len(nametab)
    functab_len = (2 * nfunc + 1) * 4
    funcs_off = functab_len  # _func records right after the table, relative to functab_off
    functab = bytearray(functab_len)
    records = bytearray()
    for i in range(nfunc):
        struct.pack_into("<II", functab, 8 * i, 16 * i, funcs_off + 8 * i)
        records += struct.pack("<Ii", 16 * i, nameoff_of(i))
    struct.pack_into("<I", functab, 8 * nfunc, 16 * nfunc)
    head = struct.pack("<IBBBB", 0xFFFFFFF1, 0, 0, 1, 8)
    words = [nfunc, 0, 0, nametab_off, 0, 0, 0, functab_off]
    head += struct.pack("<8Q", *words)
    return head + nametab + bytes(functab) + bytes(records)
