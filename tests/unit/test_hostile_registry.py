"""A hostile registry (tests/support/hostile_registry.py) against slimgo's client: credentials never leave
the registry's host, time and memory stay bounded, and every failure is one line with its exit code
(3 for a remote failure, 2 for a refusal or a malformed answer)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from slimgo.errors import BadInput, RemoteError, SlimgoError
from slimgo.oci.cache import LayerCache
from slimgo.oci.digest import Digest, SizeExceeded
from slimgo.registry.auth import Credentials, CredentialSource
from slimgo.registry.client import Policy, Registry, RegistryError
from tests.support.hostile_registry import (
    Handler,
    HostileRegistry,
    loopback_alias_works,
)

FAST = Policy(max_tries=3, backoff=0.01, deadline=2.0, min_rate=1000, rate_window=0.5, read_timeout=2.0)
CREDS = CredentialSource(explicit=Credentials("alice", "s3cret"))
BLOB = b"x" * 100
DIGEST = str(Digest.of(BLOB))


def _one_line(err: SlimgoError, code: int) -> None:
    assert err.exit_code == code and "\n" not in str(err) and "s3cret" not in str(err)


def _reg(h: HostileRegistry, policy: Policy = FAST) -> Registry:
    return Registry(h.host, credentials=CREDS, policy=policy)


def test_upload_location_on_another_host_gets_no_credentials() -> None:
    if not loopback_alias_works():
        pytest.skip("127.0.0.2 is not routable here (no loopback alias)")
    other = HostileRegistry(host_ip="127.0.0.2")
    with other.run(), HostileRegistry().run() as reg:
        @reg.route("*", "/v2/")
        def auth(h: Handler) -> None:
            if h.headers.get("Authorization") is None:
                h.reply(401, headers={"WWW-Authenticate": 'Basic realm="x"'})
            elif h.command == "HEAD":
                h.reply(404)
            elif h.command == "POST":
                h.reply(202, headers={"Location": f"http://{other.host}/upload/1"})
            else:
                h.reply(500)

        @other.route("PUT", "/upload/")
        def put(h: Handler) -> None:
            h.reply(201)

        assert _reg(reg).push_blob("r", DIGEST, len(BLOB), lambda: io.BytesIO(BLOB)) == "uploaded"
        puts = other.requests_to("PUT")
        assert puts and all("Authorization" not in s.headers for s in puts)
        assert all("Authorization" in s.headers for s in reg.seen if s.method == "POST")


def test_plain_http_token_realm_is_refused_for_an_https_registry() -> None:
    reg = Registry("registry.example", credentials=CREDS, policy=FAST)
    with pytest.raises(RegistryError, match="plain HTTP") as exc:
        reg.auth.answer('Bearer realm="http://127.0.0.1:9/token",service="x"', "repository:r:pull")
    _one_line(exc.value, 2)


def test_token_realm_on_loopback_http_registry_is_allowed_and_token_is_bounded() -> None:
    with HostileRegistry().run() as reg:
        @reg.route("GET", "/v2/r/manifests/")
        def challenge(h: Handler) -> None:
            h.reply(401, headers={"WWW-Authenticate": f'Bearer realm="http://{reg.host}/token",service="s"'})

        @reg.route("GET", "/token")
        def token(h: Handler) -> None:
            h.drip(200, b"a" * 65536, 0.0, reg.stop)  # an endless token answer

        t0 = time.monotonic()
        with pytest.raises(SlimgoError, match="limit") as exc:
            _reg(reg).get_manifest("r", "latest")
        assert time.monotonic() - t0 < 5
        _one_line(exc.value, 2)
        assert reg.requests_to("GET", "/token")[0].headers.get("Authorization", "").startswith("Basic ")


def test_five_hundreds_after_retries_are_a_remote_error_with_one_retry_layer() -> None:
    with HostileRegistry().run() as reg:
        @reg.route("*", "/v2/")
        def always_503(h: Handler) -> None:
            if h.command == "HEAD":
                h.reply(404)
            elif h.command == "POST":
                h.reply(202, headers={"Location": "/v2/r/blobs/uploads/1"})
            else:
                h.reply(503, b'{"errors":[{"code":"UNAVAILABLE","message":"down"}]}')

        with pytest.raises(RemoteError) as exc:
            _reg(reg).push_blob("r", DIGEST, len(BLOB), lambda: io.BytesIO(BLOB))
        _one_line(exc.value, 3)
        assert not isinstance(exc.value, BadInput)
        # One retry layer: 3 upload sessions of one PUT each, not 3 x 3.
        assert len(reg.requests_to("PUT")) == FAST.max_tries


def test_dripped_body_falls_below_the_minimum_rate() -> None:
    with HostileRegistry().run() as reg:
        @reg.route("GET", "/v2/r/blobs/")
        def drip(h: Handler) -> None:
            h.drip(200, b"x", 0.2, reg.stop)

        t0 = time.monotonic()
        with pytest.raises(RemoteError, match="slower than") as exc:
            with _reg(reg).open_blob("r", Digest.parse(DIGEST)) as fh:
                while fh.read(1 << 16):
                    pass
        assert time.monotonic() - t0 < 5
        _one_line(exc.value, 3)


def test_dripped_headers_hit_the_request_deadline() -> None:
    with HostileRegistry().run() as reg:
        @reg.route("GET", "/v2/r/manifests/")
        def drip(h: Handler) -> None:
            h.drip_headers(0.1, reg.stop)

        t0 = time.monotonic()
        with pytest.raises(RemoteError, match="deadline") as exc:
            _reg(reg, Policy(max_tries=1, deadline=1.0, read_timeout=5.0)).get_manifest("r", "latest")
        assert time.monotonic() - t0 < 4
        _one_line(exc.value, 3)


def test_manifest_limits_and_answers_of_the_wrong_shape() -> None:
    big = b'{"x":"' + b"a" * (5 << 20) + b'"}'
    answers = {
        "big": lambda h: h.reply(200, big, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}),
        "endless": lambda h: h.drip(200, b"a" * 65536, 0.0, reg.stop),
        "list-error": lambda h: h.reply(400, b"[1,2,3]"),
        "string-error": lambda h: h.reply(400, b'"nope"'),
        "errors-not-list": lambda h: h.reply(400, b'{"errors":"x"}'),
        "no-type": lambda h: h.reply(200, json.dumps({"schemaVersion": 2, "manifests": [],
                                                      "mediaType": "application/vnd.oci.image.index.v1+json"}).encode()),
    }
    with HostileRegistry().run() as reg:
        @reg.route("GET", "/v2/r/manifests/")
        def manifest(h: Handler) -> None:
            answers[h.path.rsplit("/", 1)[1]](h)

        client = _reg(reg)
        for tag in ("big", "endless"):
            with pytest.raises(SlimgoError, match="limit") as exc:
                client.get_manifest("r", tag)
            _one_line(exc.value, 2)
        for tag in ("list-error", "string-error", "errors-not-list"):
            with pytest.raises(RegistryError, match="answered 400") as exc:
                client.get_manifest("r", tag)
            _one_line(exc.value, 2)
        _, media, _ = client.get_manifest("r", "no-type")
        assert media == "application/vnd.oci.image.index.v1+json"


def test_upload_answer_without_location() -> None:
    with HostileRegistry().run() as reg:
        @reg.route("*", "/v2/")
        def no_location(h: Handler) -> None:
            h.reply(404 if h.command == "HEAD" else 202)

        with pytest.raises(RegistryError, match="no Location") as exc:
            _reg(reg).push_blob("r", DIGEST, len(BLOB), lambda: io.BytesIO(BLOB))
        _one_line(exc.value, 2)


def test_endless_blob_declared_as_ten_bytes_never_fills_the_cache(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    with HostileRegistry().run() as reg:
        @reg.route("GET", "/v2/r/blobs/")
        def endless(h: Handler) -> None:
            h.drip(200, b"z" * 65536, 0.0, reg.stop)

        want = Digest.of(b"0123456789")
        with pytest.raises(SizeExceeded) as exc, _reg(reg).open_blob("r", want) as fh:
            cache.ingest(want, 10, fh, what="blob")
        _one_line(exc.value, 2)
    stored = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert stored == []


def test_digest_of_a_requested_manifest_is_checked() -> None:
    with HostileRegistry().run() as reg:
        @reg.route("GET", "/v2/r/manifests/")
        def other(h: Handler) -> None:
            h.reply(200, json.dumps({"schemaVersion": 2}).encode(), {"Content-Type": "application/json"})

        with pytest.raises(BadInput, match="digest mismatch"):
            _reg(reg).get_manifest("r", "sha256:" + "a" * 64)
        with pytest.raises(BadInput, match="malformed digest"):
            _reg(reg).get_manifest("r", "sha256:../../x")


def test_retries_stop_at_the_request_deadline() -> None:
    """A registry asking to retry after 5 s, with a 1 s deadline: one try, no sleep, exit 3."""
    with HostileRegistry().run() as reg:
        @reg.route("GET", "/v2/")
        def busy(h: Handler) -> None:
            h.reply(429, headers={"Retry-After": "5"})

        t0 = time.monotonic()
        with pytest.raises(RemoteError, match="429") as exc:
            _reg(reg, Policy(max_tries=6, deadline=1.0)).get_manifest("r", "latest")
        assert time.monotonic() - t0 < 1.5 and len(reg.seen) == 1
        _one_line(exc.value, 3)


def test_a_registry_that_failed_its_ping_fails_the_other_programs_without_new_tries() -> None:
    """`build ./...` pings a host once for every program; when it is down after every retry, the next
    program must fail with the same remote error at once (not spend the retries again, per program)."""
    with HostileRegistry().run() as reg:
        @reg.route("*", "/v2/")
        def always_503(h: Handler) -> None:
            h.reply(503, b'{"errors":[{"code":"UNAVAILABLE","message":"down"}]}')

        client = _reg(reg)
        with pytest.raises(RemoteError) as first:
            client.ping("team/a")
        tried = len(reg.requests_to("HEAD"))
        assert tried == FAST.max_tries
        with pytest.raises(RemoteError) as second:
            client.ping("team/b")
        assert len(reg.requests_to("HEAD")) == tried and str(second.value) == str(first.value)
        _one_line(second.value, 3)
