"""Push an image or index to a registry: blobs first (HEAD, mount, upload; in parallel), then child
manifests by digest, then the top manifest by tag. A manifest never names a blob that is not there."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from typing import TYPE_CHECKING

from .. import interruptible
from ..oci.mediatypes import OCI_INDEX, OCI_MANIFEST
from ..oci.model import Image, Index, Layer, sha256
from ..oci.reference import Reference
from ..supplychain.attach import EMPTY, EMPTY_BYTES, Attachment, fallback_tag, referrers_index
from ..supplychain.sign import Signing, docker_reference
from .content import Published
from .sink import SinkResult

if TYPE_CHECKING:  # the registry client pulls in requests (~80 ms): imported only when pushing
    from ..registries import RegistryPool
    from ..registry.client import Registry

PARALLEL_UPLOADS = 4


def _push_layer(reg: Registry, repo: str, layer: Layer) -> str:
    mount_from = None
    if layer.origin:
        host, _, src_repo = layer.origin.partition("/")
        if host == reg.host:
            mount_from = src_repo
    return reg.push_blob(repo, layer.digest, layer.size, layer.open, mount_from)


def _push_image_blobs(reg: Registry, repo: str, images: tuple[Image, ...]) -> None:
    layers: dict[str, Layer] = {}
    for img in images:
        for layer in img.layers:
            layers.setdefault(layer.digest, layer)
    calls: list[Callable[[], object]] = [partial(_push_layer, reg, repo, layer) for layer in layers.values()]
    for img in images:
        cfg = img.config_descriptor
        calls.append(partial(reg.push_blob, repo, cfg.digest, cfg.size, partial(BytesIO, img.config_bytes)))
    run_parallel(calls, PARALLEL_UPLOADS)


def run_parallel(calls: list[Callable[[], object]], workers: int) -> None:
    """Run the calls on `workers` daemon threads; the first failure is raised at once.

    Not a ThreadPoolExecutor: leaving one, and the interpreter's exit, wait for every upload in flight, so
    Ctrl-C during a large PUT on a slow link was answered only when that PUT ended (seconds to minutes).
    An abandoned upload leaves an unfinished upload session, which the registry expires; no manifest
    names its blob, since manifests go only after this returns."""
    if not calls:
        return
    todo: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
    for call in calls:
        todo.put(call)
    failures: list[BaseException] = []
    finished = threading.Event()
    lock = threading.Lock()
    left = [len(calls)]

    def worker() -> None:
        while not finished.is_set():
            try:
                call = todo.get_nowait()
            except queue.Empty:
                return
            try:
                call()
            except BaseException as exc:  # handed to the caller's thread, which raises it
                failures.append(exc)
                finished.set()
                return
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    finished.set()

    for _ in range(min(workers, len(calls))):
        threading.Thread(target=worker, name="slimgo-upload", daemon=True).start()
    interruptible.wait(finished)  # a signal (Ctrl-C, SIGTERM) ends this wait in the main thread
    if failures:
        raise failures[0]


def push_attachments(reg: Registry, repo: str, attachments: tuple[Attachment, ...], check: bool = False) -> None:
    """Blobs, then each artifact manifest by digest; then, where the registry has no referrers API, the
    `sha256-<hex>` tag of each subject gets an index of its referrers (merged with what it already lists,
    and written only when that changes it). `check`: the image was already there, so its attachments
    probably are too: each is looked up (HEAD) before anything of it is sent."""
    if not attachments:
        return

    def one(att: Attachment) -> None:
        if check and reg.manifest_digest(repo, att.digest) == att.digest:
            return
        reg.push_blob(repo, EMPTY.digest, EMPTY.size, partial(BytesIO, EMPTY_BYTES))
        reg.push_blob(repo, att.blob_descriptor.digest, len(att.blob), partial(BytesIO, att.blob))
        reg.put_manifest(repo, att.digest, att.manifest_bytes, OCI_MANIFEST)

    def listing(subject: str, atts: list[Attachment]) -> None:
        if reg.referrers(repo, subject) is not None:
            return  # the registry indexes `subject` itself
        tag = fallback_tag(subject)
        existing = reg.find_manifest(repo, tag)
        body = referrers_index(existing, [a.descriptor() for a in atts])
        if body != existing:
            reg.put_manifest(repo, tag, body, OCI_INDEX)

    by_subject: dict[str, list[Attachment]] = {}
    for att in attachments:
        by_subject.setdefault(att.subject.digest, []).append(att)
    # Each attachment, then each subject's listing, is independent of the others: sent in parallel (a
    # two-platform image has four attachments and two listings, a dozen round trips one after the other).
    run_parallel([partial(one, att) for att in attachments], PARALLEL_UPLOADS)
    run_parallel([partial(listing, subject, atts) for subject, atts in by_subject.items()], PARALLEL_UPLOADS)


def push_signatures(reg: Registry, ref: Reference, signing: Signing | None) -> None:
    """cosign's tag scheme: blobs, then each `sha256-<hex>.sig`/`.att` manifest, merged with the signatures
    already under that tag (cosign appends likewise), so another key's signature survives a re-push."""
    if signing is None:
        return
    repo = ref.repository
    for sig in signing.manifests(docker_reference(ref)):
        for digest, blob in sig.blobs:
            reg.push_blob(repo, digest, len(blob), partial(BytesIO, blob))
        merged = sig.merged(reg.find_manifest(repo, sig.tag))
        config = merged.config_bytes
        reg.push_blob(repo, sha256(config), len(config), partial(BytesIO, config))
        reg.put_manifest(repo, sig.tag, merged.manifest_bytes, OCI_MANIFEST)


def push(pub: Published, reg: Registry, refs: tuple[Reference, ...]) -> list[str]:
    """Push to every ref (same registry); returns NAME@DIGEST per ref.

    The tag is written last, after every blob, the manifests by digest, the SBOM, provenance and signatures:
    a push that fails or is interrupted half-way never leaves the tag naming an image without them (a
    policy that requires a signature would refuse it; a re-run completes it). So a tag that already names
    this digest proves the image is all there: then none of it is sent (one HEAD, as go-containerregistry
    does), and only attachments and signatures this run adds are looked up."""
    out = []
    for ref in refs:
        repo = ref.repository
        tag = ref.tag or "latest"
        top = pub.artifact
        top_type = OCI_INDEX if isinstance(top, Index) else top.manifest_media_type
        present = reg.manifest_digest(repo, tag) == pub.digest
        if present:
            reg.stats.add(existing_manifests=1)
        else:
            _push_image_blobs(reg, repo, pub.images)
            if isinstance(top, Index):
                for img in pub.images:
                    reg.put_manifest(repo, img.digest, img.manifest_bytes, img.manifest_media_type)
            reg.put_manifest(repo, top.digest, top.manifest_bytes, top_type)
        push_attachments(reg, repo, pub.attachments, check=present)
        push_signatures(reg, ref, pub.signing)  # always: an unchanged image may be signed with another key
        if not present:
            reg.put_manifest(repo, tag, top.manifest_bytes, top_type)
        out.append(f"{ref.short_name}@{pub.digest}")
    return out


@dataclass(frozen=True)
class RegistrySink:
    """Push to every ref, grouped by registry host; one pool of clients carries credentials and stats."""

    refs: tuple[Reference, ...]
    registries: RegistryPool
    remote: bool = True
    registry: bool = True  # asked beside the compile (stages.publish.check_outputs)

    def describe(self) -> str:
        return f"pushing {', '.join(str(r) for r in self.refs)}"

    def check(self) -> None:
        for ref in self.refs:  # unreachable registries and refused credentials fail before any work
            self.registries(ref.registry).ping(ref.repository)

    def publish(self, pub: Published) -> SinkResult:
        started = time.perf_counter()
        pushed: list[str] = []
        for host in dict.fromkeys(r.registry for r in self.refs):
            pushed += push(pub, self.registries(host), tuple(r for r in self.refs if r.registry == host))
        return SinkResult({"pushed": ", ".join(pushed)}, tuple(pushed), self.registries.stats.to_json(),
                          {"push": time.perf_counter() - started})
