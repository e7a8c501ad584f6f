"""Blobs: HEAD, download (a stream the caller verifies), upload (one session per try), mount.

An upload session is several requests (POST, PATCH…, PUT); a dropped one cannot be resumed reliably, so
the whole session is the unit the transport retries, with each request inside sent once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO
from urllib.parse import urlencode

from ..oci.digest import Digest
from .transport import RegistryError, Retryable, Transport

CHUNK_THRESHOLD = 16 << 20  # blobs above this go up in chunks
CHUNK_SIZE = 8 << 20


def _scope(repo: str, push: bool = False) -> str:
    return f"repository:{repo}:pull,push" if push else f"repository:{repo}:pull"


class Blobs:
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def exists(self, repo: str, digest: Digest) -> bool:
        resp = self.t.request("HEAD", f"/v2/{repo}/blobs/{digest}", scope=_scope(repo, True), allow=(404,))
        return resp.status_code == 200

    def open(self, repo: str, digest: Digest) -> io.RawIOBase:
        """The blob's bytes as a rate-checked stream; the caller verifies them (DigestingReader)."""
        resp = self.t.request("GET", f"/v2/{repo}/blobs/{digest}", scope=_scope(repo), stream=True)
        return self.t.body_stream(resp, f"blob {digest}")

    def push(self, repo: str, digest: Digest, size: int, open_blob: Callable[[], IO[bytes]],
             mount_from: str | None = None) -> str:
        """Make the blob present in repo: 'skipped' (already there), 'mounted' or 'uploaded'."""
        stats = self.t.stats
        # A blob known to be in another repository of this host is mounted at once: one request, which also
        # answers 201 when repo has it already. Only when the mount is refused is existence asked.
        if mount_from and mount_from != repo and self.mount(repo, digest, mount_from):
            stats.add(mounted=1)
            return "mounted"
        if self.exists(repo, digest):
            stats.add(skipped=1)
            return "skipped"

        def session() -> None:
            try:
                self._upload(repo, digest, size, open_blob)
            except Retryable:
                # The registry may have got it after all: then the retry is not needed.
                if self.t.attempt("HEAD", f"/v2/{repo}/blobs/{digest}", scope=_scope(repo, True),
                                  allow=(404,)).status_code == 200:
                    return
                raise

        self.t.retrying(session)
        stats.add(uploaded=1, uploaded_bytes=size)
        return "uploaded"

    def mount(self, repo: str, digest: Digest, source: str) -> bool:
        """Cross-repository mount; False when the registry opened an upload session instead (202). That
        session is left to expire: the upload that follows opens its own, so a retry starts clean."""
        resp = self.t.request("POST", f"/v2/{repo}/blobs/uploads/?mount={digest}&from={source}",
                              scope=f"{_scope(repo, True)} {_scope(source)}", ok=(201, 202))
        return resp.status_code == 201

    def _location(self, resp_location: str | None, what: str) -> str:
        if not resp_location:
            raise RegistryError(f"{self.t.host}: {what} answer has no Location header")
        return self.t.url(resp_location)

    def _upload(self, repo: str, digest: Digest, size: int, open_blob: Callable[[], IO[bytes]]) -> None:
        scope = _scope(repo, True)
        start = self.t.attempt("POST", f"/v2/{repo}/blobs/uploads/", scope=scope, ok=(202,))
        location = self._location(start.headers.get("Location"), "upload start")
        octets = {"Content-Type": "application/octet-stream"}
        if size <= CHUNK_THRESHOLD:
            with open_blob() as fh:
                payload = fh.read()
            self.t.attempt("PUT", _with_query(location, digest=str(digest)), scope=scope, ok=(201,),
                           data=payload, headers=octets)
            return
        offset = 0
        with open_blob() as fh:
            while chunk := fh.read(CHUNK_SIZE):
                resp = self.t.attempt("PATCH", location, scope=scope, ok=(202,), data=chunk, headers={
                    **octets, "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                    "Content-Length": str(len(chunk))})
                location = self._location(resp.headers.get("Location"), "upload chunk")
                offset += len(chunk)
        self.t.attempt("PUT", _with_query(location, digest=str(digest)), scope=scope, ok=(201,), data=b"")


def _with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)
