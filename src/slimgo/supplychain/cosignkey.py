"""Read a private key in cosign's encrypted format (`cosign generate-key-pair`), before anything is compiled.

The file is a PEM block (`ENCRYPTED SIGSTORE PRIVATE KEY`, or `ENCRYPTED COSIGN PRIVATE KEY` from cosign
v1) whose body is JSON: scrypt parameters and salt, a NaCl secretbox (XSalsa20-Poly1305) nonce, and the
ciphertext of a PKCS#8 DER private key. scrypt comes from hashlib; `cryptography` has no XSalsa20, so the
secretbox comes from PyNaCl. Every failure is one line naming the file (exit 2), never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import BadInput

PEM_TYPES = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
MAX_KEY_FILE = 64 << 10
# cosign writes N=65536, r=8, p=1 (64 MiB of scrypt memory); a larger N from a foreign file is refused
# rather than allowed to take the machine's memory. The memory cap (128·N·r) also keeps under OpenSSL's own
# maxmem limit (< 2 GiB), whose ValueError would otherwise be an internal error.
MAX_SCRYPT_N, MAX_SCRYPT_R, MAX_SCRYPT_P = 1 << 20, 32, 16
MAX_SCRYPT_MEMORY = 1 << 30


def _pem_body(text: str, what: str) -> bytes:
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or not lines[0].startswith("-----BEGIN ") or not lines[-1].startswith("-----END "):
        raise BadInput(f"{what}: not a PEM file (expected cosign's encrypted private key)")
    kind = lines[0].removeprefix("-----BEGIN ").removesuffix("-----")
    if kind not in PEM_TYPES:
        raise BadInput(f"{what}: a {kind!r} PEM block, not cosign's encrypted private key "
                       "(make one with `cosign generate-key-pair` or `cosign import-key-pair`)")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(f"{what}: the PEM body is not base64") from None


def _b64(doc: dict[str, Any], key: str, what: str) -> bytes:
    value = doc.get(key)
    if not isinstance(value, str):
        raise BadInput(f"{what}: the key file has no {key!r}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(f"{what}: {key!r} is not base64") from None


def _scrypt_key(kdf: Any, password: bytes, what: str) -> bytes:
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt" or not isinstance(kdf.get("params"), dict):
        raise BadInput(f"{what}: unsupported key derivation (cosign's keys use scrypt)")
    params = kdf["params"]
    n, r, p = params.get("N"), params.get("r"), params.get("p")
    if not all(type(v) is int and v > 0 for v in (n, r, p)) or n < 2 or n & (n - 1) or n > MAX_SCRYPT_N \
            or r > MAX_SCRYPT_R or p > MAX_SCRYPT_P or 128 * n * r > MAX_SCRYPT_MEMORY:
        raise BadInput(f"{what}: scrypt parameters N={n} r={r} p={p} are not ones cosign writes "
                       f"(N a power of two from 2 to {MAX_SCRYPT_N}, r ≤ {MAX_SCRYPT_R}, p ≤ {MAX_SCRYPT_P}, "
                       f"at most {MAX_SCRYPT_MEMORY >> 20} MiB of memory)")
    salt = _b64(kdf, "salt", what)
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=129 * r * (n + p + 2) + (1 << 20))


def envelope(data: bytes, what: str) -> dict[str, Any]:
    """cosign's JSON key envelope, checked without the password so a wrong file is named before any prompt."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise BadInput(f"{what}: not a PEM file (expected cosign's encrypted private key)") from None
    try:
        doc = json.loads(_pem_body(text, what))
    except (ValueError, RecursionError):  # RecursionError: a body of nested brackets
        raise BadInput(f"{what}: the PEM body is not cosign's JSON key envelope") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{what}: the PEM body is not cosign's JSON key envelope")
    cipher = doc.get("cipher")
    if not isinstance(cipher, dict) or cipher.get("name") != "nacl/secretbox":
        raise BadInput(f"{what}: unsupported cipher (cosign's keys use nacl/secretbox)")
    return doc


def decrypt(data: bytes, password: str, what: str) -> bytes:
    """The PKCS#8 DER inside cosign's encrypted key file."""
    doc = envelope(data, what)
    cipher = doc["cipher"]
    nonce, ciphertext = _b64(cipher, "nonce", what), _b64(doc, "ciphertext", what)
    # surrogateescape: a $COSIGN_PASSWORD that is not UTF-8 reaches Python as lone surrogates; its own bytes
    # are the password, as cosign (Go, which reads the environment as bytes) takes it.
    box_key = _scrypt_key(doc.get("kdf"), password.encode("utf-8", "surrogateescape"), what)
    import nacl.exceptions
    import nacl.secret

    if len(nonce) != nacl.secret.SecretBox.NONCE_SIZE:
        raise BadInput(f"{what}: the secretbox nonce is {len(nonce)} bytes, not {nacl.secret.SecretBox.NONCE_SIZE}")
    try:
        return bytes(nacl.secret.SecretBox(box_key).decrypt(ciphertext, nonce))
    except nacl.exceptions.CryptoError:
        raise BadInput(f"{what}: wrong password (or a damaged key file): decryption failed") from None


def read_key_file(path: Path) -> bytes:
    """The key file's bytes, its envelope already checked (cheap: no scrypt, no password)."""
    what = f"--sign-key {path}"
    try:  # one bounded read: /dev/zero has no size to check first, and `<(…)` is a pipe that reads once
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_FILE + 1)
    except OSError as e:
        raise BadInput(f"{what}: cannot read it ({e.strerror or e})") from None
    if len(data) > MAX_KEY_FILE:
        raise BadInput(f"{what}: larger than {MAX_KEY_FILE >> 10} KiB; not a cosign key")
    envelope(data, what)
    return data


def load_private_key(path: Path, password: str, data: bytes | None = None) -> Any:
    """The ECDSA P-256 private key cosign generates; other key types are refused by name. `data`: the file
    as read_key_file already read it (a pipe cannot be read twice)."""
    what = f"--sign-key {path}"
    data = read_key_file(path) if data is None else data
    der = decrypt(data, password, what)
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    try:
        key = load_der_private_key(der, None)
    except (ValueError, TypeError):
        raise BadInput(f"{what}: the decrypted key is not a PKCS#8 private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BadInput(f"{what}: {key_kind(key)}; slimgo signs with ECDSA P-256 keys (cosign generate-key-pair)")
    return key


def key_kind(key: object) -> str:
    """The key's algorithm as people name it (the class name, `Ed25519PrivateKey`, leaked into the error)."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"an ECDSA {key.curve.name} key"
    if isinstance(key, rsa.RSAPrivateKey):
        return f"an RSA-{key.key_size} key"
    names = ((ed25519.Ed25519PrivateKey, "an Ed25519 key"), (ed448.Ed448PrivateKey, "an Ed448 key"),
             (dsa.DSAPrivateKey, "a DSA key"))
    return next((name for cls, name in names if isinstance(key, cls)), "a key of another type")
