"""`--sign-key`: cosign's own key file read (made by the real `cosign generate-key-pair`), its failures as one
line and exit 2 before anything is built, and the signatures checked with `cryptography` against the public key
cosign wrote; deterministic, merged with other signatures, and kept out of the images a layout lists."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from slimgo.errors import BadInput
from slimgo.oci.reference import Reference
from slimgo.sinks.content import Published
from slimgo.sinks.layout import LayoutSink
from slimgo.sources.local import open_image
from slimgo.stages.sign import signing
from slimgo.supplychain import provenance, spdx
from slimgo.supplychain.attach import attach
from slimgo.supplychain.cosignkey import load_private_key
from slimgo.supplychain.referrers import attested, local_referrers
from slimgo.supplychain.sign import (
    DSSE_ENVELOPE,
    PREDICATE_SLSA1,
    PREDICATE_SPDX,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING,
    KeySigner,
    pae,
)
from tests.support.cli import run
from tests.support.parts import HELLO, OCI_SCHEMAS, REPO
from tests.support.schemas import validate
from tests.unit.test_image_sinks_sources import _image

KEYS = REPO / "tests" / "data" / "cosign"
PASSWORD = "slimgo-test"


@pytest.fixture(scope="module")
def signer() -> KeySigner:
    return KeySigner(load_private_key(KEYS / "cosign.key", PASSWORD))


def _public() -> ec.EllipticCurvePublicKey:
    key = serialization.load_pem_public_key((KEYS / "cosign.pub").read_bytes())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def _cosign_format(der: bytes, password: str, n: int = 1024, declared_n: int | None = None) -> str:
    """A key file in cosign's envelope, made here (for key types and parameters cosign would not write)."""
    import nacl.secret
    import nacl.utils

    salt, nonce = nacl.utils.random(32), nacl.utils.random(24)
    box = hashlib.scrypt(password.encode("utf-8", "surrogateescape"), salt=salt, n=n, r=8, p=1, dklen=32,
                         maxmem=1 << 26)
    body = {"kdf": {"name": "scrypt", "params": {"N": declared_n or n, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
            "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
            "ciphertext": base64.b64encode(nacl.secret.SecretBox(box).encrypt(der, nonce).ciphertext).decode()}
    b64 = base64.b64encode(json.dumps(body).encode()).decode()
    return "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + "\n".join(
        b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"


def _pkcs8(key: object) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                             serialization.NoEncryption())


def test_cosigns_key_file_decrypts_to_the_key_of_its_public_pem(signer: KeySigner) -> None:
    assert signer.public_pem() == (KEYS / "cosign.pub").read_bytes()
    sig = signer.sign(b"payload")
    _public().verify(sig.der, b"payload", ec.ECDSA(hashes.SHA256()))
    assert signer.sign(b"payload") == sig  # RFC 6979: the same bytes every time


def test_bad_keys_and_passwords_are_one_line_errors(tmp_path: Path) -> None:
    cases = {
        "wrong password": (KEYS / "cosign.key").read_text(),
        "'PUBLIC KEY' PEM block": (KEYS / "cosign.pub").read_text(),
        "not a PEM file": "hello\n",
        "an RSA-2048 key;": _cosign_format(_pkcs8(rsa.generate_private_key(65537, 2048)), "pw"),
        "an ECDSA secp384r1 key;": _cosign_format(_pkcs8(ec.generate_private_key(ec.SECP384R1())), "pw"),
        "an Ed25519 key;": _cosign_format(_pkcs8(ed25519.Ed25519PrivateKey.generate()), "pw"),  # not the class name
        "scrypt parameters N=4194304": _cosign_format(b"x", "pw", declared_n=1 << 22),  # 4 GiB of memory
    }
    for expected, text in cases.items():
        path = tmp_path / "k.key"
        path.write_text(text)
        with pytest.raises(BadInput, match=expected) as info:
            load_private_key(path, "pw" if "PEM" not in expected else PASSWORD)
        assert "\n" not in str(info.value) and str(path) in str(info.value)
    with pytest.raises(BadInput, match="cannot read it"):
        load_private_key(tmp_path / "missing.key", "pw")
    ok = tmp_path / "ok.key"
    ok.write_text(_cosign_format(_pkcs8(ec.generate_private_key(ec.SECP256R1())), ""))
    assert load_private_key(ok, "")  # an empty password is one cosign allows


def _envelope_text(body: bytes) -> str:
    b64 = base64.b64encode(body).decode()
    return "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + "\n".join(
        b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"


@pytest.mark.parametrize(("params", "body"), [
    ({"N": 1, "r": 8, "p": 1}, None),  # hashlib: "n must be a power of 2" (N=1 passed the power-of-two test)
    ({"N": True, "r": 8, "p": 1}, None),  # a JSON true is a Python int
    ({"N": 1 << 20, "r": 32, "p": 1}, None),  # 4 GiB: over OpenSSL's maxmem, a ValueError before the fix
    (None, b"[" * 40000),  # nested brackets: json's RecursionError
])
def test_hostile_key_envelopes_are_bad_input_not_internal_errors(
        tmp_path: Path, params: dict[str, object] | None, body: bytes | None) -> None:
    if body is None:
        body = json.dumps({"kdf": {"name": "scrypt", "params": params, "salt": base64.b64encode(b"s" * 32).decode()},
                           "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(b"n" * 24).decode()},
                           "ciphertext": base64.b64encode(b"c" * 48).decode()}).encode()
    path = tmp_path / "k.key"
    path.write_text(_envelope_text(body))
    with pytest.raises(BadInput, match="scrypt parameters|not cosign's JSON key envelope") as info:
        load_private_key(path, "pw")
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_password_that_is_not_utf8_is_its_bytes_not_an_internal_error(tmp_path: Path) -> None:
    """$COSIGN_PASSWORD=$'\\xff' reaches Python as "\\udcff": str.encode() raised UnicodeEncodeError (exit 70)."""
    path = tmp_path / "k.key"
    path.write_text(_cosign_format(_pkcs8(ec.generate_private_key(ec.SECP256R1())), "\udcffpw"))  # bytes ff 70 77
    assert load_private_key(path, b"\xffpw".decode("utf-8", "surrogateescape"))
    with pytest.raises(BadInput, match="wrong password"):
        load_private_key(path, "\udcfe")


def test_the_cli_refuses_before_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    monkeypatch.setenv("SLIMGO_GO", str(tmp_path / "no-go"))  # were anything compiled, this would fail first
    no_password = run("build", HELLO, "--sign-key", KEYS / "cosign.key", "--oci-layout", tmp_path / "l")
    assert no_password.code == 2 and "set $COSIGN_PASSWORD (stdin is not a terminal)" in no_password.err
    public = run("build", HELLO, "--sign-key", KEYS / "cosign.pub", "--oci-layout", tmp_path / "l")
    assert public.code == 2 and "'PUBLIC KEY' PEM block" in public.err  # the wrong file is named before a password
    monkeypatch.setenv("COSIGN_PASSWORD", "nope")
    wrong = run("build", HELLO, "--sign-key", KEYS / "cosign.key", "--json")
    assert wrong.code == 2 and wrong.json()["error"]["message"].endswith("wrong password (or a damaged key file): "
                                                                         "decryption failed")
    assert not (tmp_path / "l").exists()


def test_signatures_verify_with_the_public_key_and_are_reproducible(tmp_path: Path, signer: KeySigner) -> None:
    img = _image(tmp_path)
    sbom = attach(img.descriptor(), spdx.MEDIA_TYPE, b'{"spdxVersion":"SPDX-2.3"}')
    stmt = json.dumps({"_type": provenance.STATEMENT_TYPE, "predicateType": PREDICATE_SLSA1,
                       "subject": [{"name": "x", "digest": {"sha256": img.digest[7:]}}], "predicate": {}}).encode()
    prov = attach(img.descriptor(), provenance.MEDIA_TYPE, stmt)
    signed = signing(signer, img, (sbom, prov), "docker.io/library/demo")
    assert signed is not None
    sig, att = signed.manifests("127.0.0.1:5000/demo")
    assert (sig.tag, att.tag) == (f"sha256-{img.digest[7:]}.sig", f"sha256-{img.digest[7:]}.att")
    payload = dict(sig.blobs)[sig.layers[0].digest]
    assert json.loads(payload)["critical"] == {"identity": {"docker-reference": "127.0.0.1:5000/demo"},
                                               "image": {"docker-manifest-digest": img.digest},
                                               "type": "cosign container image signature"}
    layer = sig.layers[0]
    assert layer.media_type == SIMPLE_SIGNING
    _public().verify(base64.b64decode(dict(layer.annotations)[SIGNATURE_ANNOTATION]), payload,
                     ec.ECDSA(hashes.SHA256()))
    predicates = []
    for desc in att.layers:
        assert desc.media_type == DSSE_ENVELOPE
        env = json.loads(dict(att.blobs)[desc.digest])
        body = base64.b64decode(env["payload"])
        _public().verify(base64.b64decode(env["signatures"][0]["sig"]), pae(env["payloadType"], body),
                         ec.ECDSA(hashes.SHA256()))
        statement = json.loads(body)
        assert statement["predicateType"] == dict(desc.annotations)["predicateType"]
        assert statement["subject"][0]["digest"] == {"sha256": img.digest[7:]}
        predicates.append(statement["predicateType"])
    assert predicates == [PREDICATE_SPDX, PREDICATE_SLSA1]
    for m in (sig, att):
        validate(OCI_SCHEMAS, "image-manifest-schema.json", json.loads(m.manifest_bytes))
        validate(OCI_SCHEMAS, "config-schema.json", json.loads(m.config_bytes))
    assert signed.manifests("127.0.0.1:5000/demo") == (sig, att)  # byte-identical on a second run
    # a re-push keeps another key's signature under the tag and adds ours once
    other = KeySigner(ec.generate_private_key(ec.SECP256R1()))
    theirs = signing(other, img, (), "x")
    assert theirs is not None
    merged = sig.merged(theirs.manifests("127.0.0.1:5000/demo")[0].manifest_bytes)
    assert len(merged.layers) == 2 and merged.merged(merged.manifest_bytes).layers == merged.layers
    for junk in (b"[1]", b"not json", b'{"layers": "x"}', b'{"layers": [{"size": "big"}]}'):
        assert sig.merged(junk) == sig  # a tag that is not cosign's manifest is replaced, never trusted


@pytest.mark.parametrize("layer", [
    {"annotations": ["x"]},  # AttributeError before the fix
    {"annotations": {"k": {}}},  # unhashable: TypeError outside the try
    {"size": 1e400},  # OverflowError
    {"digest": "sha256:../../x"},
])
def test_a_hostile_registrys_signature_manifest_is_replaced_not_a_crash(signer: KeySigner, tmp_path: Path,
                                                                         layer: dict[str, object]) -> None:
    sig = signing(signer, _image(tmp_path), (), "x")
    assert sig is not None
    signer_manifest = sig.manifests("127.0.0.1:5000/demo")[0]
    good = {"mediaType": SIMPLE_SIGNING, "digest": "sha256:" + "b" * 64, "size": 1, "annotations": {"k": "v"}}
    assert len(signer_manifest.merged(json.dumps({"layers": [good]}).encode()).layers) == 2
    body = json.dumps({"layers": [good, {**good, **layer}]}).encode()
    assert signer_manifest.merged(body) == signer_manifest
    assert signer_manifest.merged(b"[" * 100_000) == signer_manifest  # json's RecursionError


def test_a_signed_layout_lists_signatures_as_cosign_save_does(tmp_path: Path, signer: KeySigner) -> None:
    img = _image(tmp_path)
    sbom = attach(img.descriptor(), spdx.MEDIA_TYPE, b'{"spdxVersion":"SPDX-2.3"}')
    tags = (Reference.parse("demo:1"),)
    LayoutSink(tmp_path / "l").publish(Published(img, tags, (sbom,), signing(signer, img, (sbom,), "demo")))
    LayoutSink(tmp_path / "plain").publish(Published(img, tags, (sbom,)))
    index = json.loads((tmp_path / "l" / "index.json").read_text())
    validate(OCI_SCHEMAS, "image-index-schema.json", index)
    kinds = [(m["annotations"].get("kind"), m["annotations"].get("org.opencontainers.image.ref.name"))
             for m in index["manifests"] if "annotations" in m]
    hexd = img.digest[7:]
    assert kinds == [("dev.cosignproject.cosign/image", "1"), ("dev.cosignproject.cosign/sigs", f"sha256-{hexd}.sig"),
                     ("dev.cosignproject.cosign/atts", f"sha256-{hexd}.att")]
    for ref in (f"oci:{tmp_path / 'l'}", f"oci:{tmp_path / 'l'}:1"):
        assert [i.manifest_digest for i in open_image(ref)] == [img.digest]  # signatures are not images
        assert [r.artifact_type for r in local_referrers(ref)] == [spdx.MEDIA_TYPE]
    seen = attested(f"oci:{tmp_path / 'l'}", None)
    assert (seen.signature, seen.signed_attestations, seen.sbom) == (True, True, ("spdx",))
    plain = attested(f"oci:{tmp_path / 'plain'}", None)
    assert (plain.signature, plain.signed_attestations) == (False, False)
    shown = run("analyze", f"oci:{tmp_path / 'l'}", "--json")
    assert shown.code == 0 and shown.json()["attestations"]["signature"] is True


def test_an_index_and_each_platform_image_are_signed(tmp_path: Path, signer: KeySigner) -> None:
    """As `cosign sign --recursive`: a verifier given the index digest or a platform digest finds a signature;
    each platform's attestations are about that platform's image."""
    from slimgo.oci.model import make_index
    from slimgo.platform import Platform

    amd, arm = _image(tmp_path, "linux/amd64", b"a"), _image(tmp_path, "linux/arm64", b"b")
    atts = tuple(attach(img.descriptor(), spdx.MEDIA_TYPE, b"{}") for img in (amd, arm))
    index = make_index([amd, arm])
    signed = signing(signer, index, atts, "demo")
    assert signed is not None
    made = signed.manifests("index.docker.io/library/demo")
    assert [(m.kind, m.subject) for m in made] == [("sig", index.digest), ("sig", amd.digest), ("sig", arm.digest),
                                                   ("att", amd.digest), ("att", arm.digest)]
    LayoutSink(tmp_path / "l").publish(Published(index, (Reference.parse("demo:1"),), atts, signed))
    entry = json.loads((tmp_path / "l" / "index.json").read_text())["manifests"][0]
    assert entry["annotations"]["kind"] == "dev.cosignproject.cosign/imageIndex"
    for plat in ("linux/amd64", "linux/arm64"):
        seen = attested(f"oci:{tmp_path / 'l'}", None, Platform.parse(plat))
        assert (seen.signature, seen.signed_attestations) == (True, True)


def test_a_key_file_is_read_once_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--sign-key /dev/zero` read without end (the size check trusted stat, which says 0 for a device) until
    the kernel killed slimgo; `--sign-key <(cat cosign.key)` (a pipe) was read twice and failed as "not a PEM
    file"."""
    import os
    import threading

    from slimgo.commands.edge import key_signer

    with pytest.raises(BadInput, match=r"/dev/zero: larger than 64 KiB; not a cosign key"):
        key_signer(Path("/dev/zero"))
    fifo = tmp_path / "key-pipe"
    os.mkfifo(fifo)
    key = (KEYS / "cosign.key").read_bytes()

    def write_once() -> None:
        with open(fifo, "wb") as fh:
            fh.write(key)

    writer = threading.Thread(target=write_once, daemon=True)
    writer.start()
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    signer = key_signer(fifo)
    writer.join(10)
    assert signer.public_pem() == (KEYS / "cosign.pub").read_bytes()

