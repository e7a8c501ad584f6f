"""The strict digest grammar and the one verifying reader."""

from __future__ import annotations

import hashlib
import io

import pytest

pytest.importorskip("hypothesis", reason="hypothesis (a test extra) is not installed")

from hypothesis import given, settings
from hypothesis import strategies as st

from slimgo.errors import BadInput
from slimgo.oci.digest import (
    Digest,
    DigestError,
    DigestingReader,
    SizeExceeded,
    read_verified,
)

GOOD = "sha256:" + hashlib.sha256(b"x").hexdigest()


def test_parse_accepts_sha256_and_sha512() -> None:
    assert str(Digest.parse(GOOD)) == GOOD
    d512 = "sha512:" + hashlib.sha512(b"x").hexdigest()
    assert Digest.parse(d512).parts == ("sha512", hashlib.sha512(b"x").hexdigest())


@pytest.mark.parametrize("bad", [
    "sha256:../../../secret.txt", "sha256:../../../../proc/self/environ", "sha256:" + "A" * 64,
    "sha256:" + "a" * 63, "sha256:" + "a" * 65, "md5:" + "a" * 32, "sha384:" + "a" * 96, "a" * 64,
    "", "sha256:", ":" + "a" * 64, "sha256:" + "a" * 63 + "/", "sha512:" + "a" * 64, "sha256:" + "a" * 64 + "\n",
    "sha256:" + "٣" * 64,
])
def test_parse_rejects_everything_else(bad: str) -> None:
    with pytest.raises(DigestError) as exc:
        Digest.parse(bad, "layer")
    assert isinstance(exc.value, BadInput) and "\n" not in str(exc.value)
    assert str(exc.value).startswith("layer:")


@pytest.mark.parametrize("bad", [None, 1, ["sha256:x"], {"a": 1}, True])
def test_parse_rejects_wrong_json_types(bad: object) -> None:
    with pytest.raises(DigestError, match="must be a string"):
        Digest.parse(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parse_fuzz_never_yields_a_path_component(text: str) -> None:
    try:
        d = Digest.parse(text)
    except DigestError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    assert "/" not in d.hex and "." not in d.hex and d.algorithm in ("sha256", "sha512")


def test_reader_verifies_and_computes() -> None:
    data = b"hello" * 1000
    d = Digest.of(data)
    assert read_verified(io.BytesIO(data), d, size=len(data)) == data
    r = DigestingReader(io.BytesIO(data))
    assert r.drain() == d and r.count == len(data)


def test_reader_refuses_flipped_byte_and_short_stream() -> None:
    data = b"hello" * 1000
    d = Digest.of(data)
    with pytest.raises(DigestError, match="digest mismatch"):
        read_verified(io.BytesIO(b"j" + data[1:]), d, size=len(data))
    with pytest.raises(DigestError, match="declared size"):
        read_verified(io.BytesIO(data[:-1]), d, size=len(data))


class _Endless(io.RawIOBase):
    """An endless stream that counts what it was asked for."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: object) -> int:
        view = memoryview(b)  # type: ignore[arg-type]
        view[:] = b"\0" * len(view)
        self.served += len(view)
        return len(view)


def test_reader_stops_an_endless_stream_at_the_declared_size() -> None:
    src = _Endless()
    r = DigestingReader(src, Digest.of(b"0" * 10), size=10, what="layer x")
    with pytest.raises(SizeExceeded, match="layer x: more bytes than its declared size 10"):
        r.drain()
    assert src.served <= 11


def test_reader_limit_without_size() -> None:
    src = _Endless()
    with pytest.raises(SizeExceeded, match="limit of 1024"):
        read_verified(src, None, limit=1024, what="token")
    assert src.served <= 1025


def test_reader_drain_copies() -> None:
    data = bytes(range(256)) * 9000
    out = io.BytesIO()
    DigestingReader(io.BytesIO(data), Digest.of(data), size=len(data)).drain(out)
    assert out.getvalue() == data
