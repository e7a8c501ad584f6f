"""A thin client of the OCI distribution spec, made of four parts with one job each:
`auth` (credentials and challenges), `transport` (HTTP, the one retry layer, deadlines and rates),
`blobs` and `manifests`.

What a registry client is judged by: nothing uploaded twice (HEAD first, cross-repository mount),
nothing half-pushed (manifests only after every blob they name), clear auth errors (which registry, which
credential source), retries with backoff on connection errors, 429 and 5xx, no credential in any output or
to any other host, and bounded time and memory whatever the registry sends.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from threading import Lock
from typing import IO

from ..errors import ImageFormatError, RemoteError
from ..limits import MAX_DOCUMENT
from ..oci.digest import Digest
from ..oci.mediatypes import OCI_INDEX
from .auth import Authenticator, CredentialSource, parse_challenge
from .blobs import Blobs
from .manifests import MANIFEST_ACCEPT, Manifests
from .transport import (
    AuthError,
    Policy,
    PushStats,
    RegistryError,
    Transport,
    is_loopback,
)

__all__ = [
    "MANIFEST_ACCEPT",
    "AuthError",
    "Policy",
    "PushStats",
    "Registry",
    "RegistryError",
    "is_loopback",
    "parse_challenge",
]


class Registry:
    """One registry host. Safe for parallel blob uploads (requests' Session is shared, tokens are cached
    under a lock)."""

    def __init__(self, host: str, *, insecure: bool = False, credentials: CredentialSource | None = None,
                 policy: Policy | None = None, stats: PushStats | None = None) -> None:
        self.transport = Transport(host, insecure=insecure, policy=policy, stats=stats)
        self.auth = Authenticator(self.transport, credentials)
        self.blobs = Blobs(self.transport)
        self.manifests = Manifests(self.transport)
        # Where each blob already is on this host: a later push to another repository mounts it from there
        # (the programs of one `build ./...` share base layers). One lock per digest, so two workers pushing
        # the same blob upload it once and the second one mounts it.
        self._lock = Lock()
        self._holders: dict[str, str] = {}
        self._blob_locks: dict[str, Lock] = {}
        # What this client has seen in the registry (a blob pushed, mounted or found), so it is never asked
        # again; whether it answers the referrers API (a registry either has it or not); whether it was pinged.
        self._present: set[tuple[str, str]] = set()
        self._referrers_api: bool | None = None
        self._pinged = False
        self._unreachable: RemoteError | None = None  # the ping's remote failure: the other programs' too
        self._ping_lock = Lock()

    @property
    def host(self) -> str:
        return self.transport.host

    @property
    def stats(self) -> PushStats:
        return self.transport.stats

    def ping(self, repo: str) -> None:
        """Reach the registry and authenticate for pushing to repo, before any work is done. Once per host:
        the programs of one `build ./...` share it (a repository the credentials cannot push to still fails
        that program's push, and only that one)."""
        with self._ping_lock:  # the other workers wait for the one ping
            if self._unreachable is not None:  # every retry was spent on the first ping: fail at once
                raise RemoteError(self._unreachable.message)
            if not self._pinged:
                try:
                    self.transport.request("HEAD", f"/v2/{repo}/blobs/sha256:{'0' * 64}",
                                           scope=f"repository:{repo}:pull,push", allow=(404,))
                except RemoteError as exc:  # unreachable, 5xx or too slow after the retries: not per repository
                    self._unreachable = exc
                    raise
                self._pinged = True

    def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str, str]:
        body, media, digest = self.manifests.get(repo, ref)
        return body, media, str(digest)

    def open_blob(self, repo: str, digest: Digest) -> io.RawIOBase:
        return self.blobs.open(repo, digest)

    def read_blob(self, repo: str, digest: str, limit: int) -> bytes:
        """A small blob (an SBOM, a provenance statement) in memory: at most limit bytes, digest verified."""
        want = Digest.parse(digest, f"{self.host}/{repo} blob")
        data = bytearray()
        with self.open_blob(repo, want) as stream:
            while len(data) <= limit:  # a raw stream hands out one chunk per read
                chunk = stream.read(min(1 << 20, limit + 1 - len(data)))
                if not chunk:
                    break
                data += chunk
        if len(data) > limit:
            raise ImageFormatError(f"{self.host}/{repo}: blob {digest} is larger than {limit >> 20} MiB")
        if Digest.of(bytes(data), want.algorithm) != want:
            raise ImageFormatError(f"{self.host}/{repo}: blob {digest} failed its digest check")
        return bytes(data)

    def referrers(self, repo: str, digest: str) -> bytes | None:
        """The referrers API's index for digest, or None when the registry lacks the API (it answers 404;
        asked once per host)."""
        if self._referrers_api is False:
            return None
        resp = self.transport.request("GET", f"/v2/{repo}/referrers/{digest}", scope=f"repository:{repo}:pull",
                                      headers={"Accept": OCI_INDEX}, allow=(404,), stream=True)
        if resp.status_code == 404:
            resp.close()
            self._referrers_api = False
            return None
        self._referrers_api = True
        return self.transport.read_body(resp, MAX_DOCUMENT, f"referrers of {digest}")

    def find_manifest(self, repo: str, ref: str) -> bytes | None:
        """A manifest by tag, or None if it does not exist (the referrers tag of an image with none yet)."""
        try:
            return self.get_manifest(repo, ref)[0]
        except RegistryError as e:
            if "manifest unknown" in str(e):
                return None
            raise

    def blob_exists(self, repo: str, digest: str) -> bool:
        return self.blobs.exists(repo, Digest.parse(digest, "blob"))

    def push_blob(self, repo: str, digest: str, size: int, open_blob: Callable[[], IO[bytes]],
                  mount_from: str | None = None) -> str:
        """Make the blob present in repo: 'skipped' (already there), 'mounted' or 'uploaded'."""
        with self._lock:
            blob_lock = self._blob_locks.setdefault(digest, Lock())
        with blob_lock:
            with self._lock:
                known = (repo, digest) in self._present
                holder = mount_from or self._holders.get(digest)
            if known:
                self.stats.add(skipped=1)
                return "skipped"
            how = self.blobs.push(repo, Digest.parse(digest, "blob"), size, open_blob, holder)
            with self._lock:
                self._holders.setdefault(digest, repo)
                self._present.add((repo, digest))
            return how

    def manifest_digest(self, repo: str, ref: str) -> str | None:
        """The digest a tag (or digest) names in repo now, or None."""
        return self.manifests.digest(repo, ref)

    def put_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        return self.manifests.put(repo, ref, body, media_type)
