from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from slimgo.errors import BadInput
from slimgo.registry.auth import Credentials, CredentialSource
from slimgo.registry.client import is_loopback, parse_challenge


def test_challenge_parsing() -> None:
    scheme, params = parse_challenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"')
    assert scheme == "bearer"
    assert params == {"realm": "https://auth.example/token", "service": "reg", "scope": "repository:a/b:pull,push"}
    assert parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})


@pytest.mark.parametrize("host,expected", [("localhost:5000", True), ("127.0.0.1:5000", True), ("127.9.9.9", True),
                                           ("[::1]:5000", True), ("registry.example:5000", False),
                                           ("10.0.0.1:5000", False)])
def test_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def _config(tmp: Path, doc: dict) -> Path:
    path = tmp / "config.json"
    path.write_text(json.dumps(doc))
    return path


def test_auths_entry(tmp_path: Path) -> None:
    auth = base64.b64encode(b"u:p@ss:word").decode()
    src = CredentialSource(config_path=_config(tmp_path, {"auths": {"https://reg.example": {"auth": auth}}}))
    assert src.lookup("reg.example") == Credentials("u", "p@ss:word")
    assert "auths entry" in src.describe("reg.example")
    assert src.lookup("other.example") is None
    assert "anonymous" in src.describe("other.example")
    assert "p@ss" not in repr(src.lookup("reg.example"))  # secrets never in reprs


def test_cred_helper_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = tmp_path / "docker-credential-slimgotest"
    helper.write_text("#!/bin/sh\nread host\n[ \"$1\" = get ] && [ \"$host\" = reg.example ] && "
                      "echo '{\"Username\":\"h\",\"Secret\":\"s\"}' && exit 0\necho 'credentials not found'; exit 1\n")
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    src = CredentialSource(config_path=_config(tmp_path, {"credHelpers": {"reg.example": "slimgotest"}}))
    assert src.lookup("reg.example") == Credentials("h", "s")
    assert "docker-credential-slimgotest" in src.describe("reg.example")
    store = CredentialSource(config_path=_config(tmp_path, {"credsStore": "slimgotest"}))
    assert store.lookup("elsewhere.example") is None  # the store has nothing for it: anonymous


def test_missing_helper_and_bad_config(tmp_path: Path) -> None:
    src = CredentialSource(config_path=_config(tmp_path, {"credHelpers": {"reg.example": "nonexistent-xyz"}}))
    with pytest.raises(BadInput, match="not installed"):
        src.lookup("reg.example")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(BadInput, match="not a readable Docker config"):
        CredentialSource(config_path=bad).lookup("x")


def test_explicit_wins(tmp_path: Path) -> None:
    src = CredentialSource(explicit=Credentials("a", "b"), config_path=tmp_path / "none.json")
    assert src.lookup("any") == Credentials("a", "b")
    assert src.lookup("any").basic_header() == "Basic " + base64.b64encode(b"a:b").decode()
