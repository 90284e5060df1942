"""Naga's request integrity: ``dataHash`` (SHA-256 of ``JSON.stringify(data)``) and the RSA
``X-Signature`` (RSASSA-PKCS1-v1_5 with SHA-256), as ``docs/providers/naga.md`` says.

The signature is accepted over the UTF-8 bytes of the ``dataHash`` string (Naga's documented
form) and, as our decision because Naga's page on the exact input was not public, over the
compact data JSON itself. Both are verified from the claimed ``dataHash`` alone, before the data
is serialised: PKCS #1 v1.5 signs the SHA-256 of its message, and the data JSON's SHA-256 is
what ``dataHash`` claims, so a signature over the JSON verifies against the claimed digest
(``Prehashed``). Only a request that is signed is then serialised, to check that the claimed
hash is the data's: the two checks together bind the data, in either form, and nobody without
Naga's key makes us do work in proportion to the body's shape.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from providers.naga.jsjson import js_stringify

MIN_KEY_BITS = 1024  # Naga's own example signature is 128 bytes (RSA-1024)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class SignatureForm(StrEnum):
    """What the signature was made over (journaled as ``signature_form``)."""

    DATA_HASH = "dataHash"
    DATA_JSON = "data-json"


class NagaKeyError(RuntimeError):
    """``NAGA_PUBLIC_KEY`` is missing or unusable: our configuration, not the caller's fault."""


class IntegrityFailure(ValueError):
    """The data hash or the signature does not check out; the message says which (journal)."""


def data_text(data: dict[str, Any]) -> str:
    """The text Naga hashed: ``JSON.stringify(data)`` with the keys in the order received."""
    return js_stringify(data)


def data_hash(data: dict[str, Any]) -> str:
    """Lowercase hex SHA-256 of ``JSON.stringify(data)``."""
    return hashlib.sha256(data_text(data).encode("utf-8")).hexdigest()


def claimed_hash(claimed: object) -> str:
    """The ``dataHash`` the request claims, lowercased, or raise ``IntegrityFailure``."""
    if not isinstance(claimed, str) or not _HEX64.fullmatch(claimed):
        raise IntegrityFailure("dataHash is missing or is not 64 hex digits")
    return claimed.lower()


def check_data_hash(data: dict[str, Any], claimed: object) -> str:
    """Return the verified hash, or raise ``IntegrityFailure``."""
    expected_claim = claimed_hash(claimed)
    expected = data_hash(data)
    if not hmac.compare_digest(expected, expected_claim):
        raise IntegrityFailure("dataHash does not match the data")
    return expected


def check_signature(
    public_key: rsa.RSAPublicKey, header: str | None, claimed_digest: str
) -> SignatureForm:
    """Verify ``X-Signature`` over the hash string, else over the data JSON whose SHA-256 the
    (lowercase hex) ``claimed_digest`` is; return the form. The data is not read here: the
    caller then checks that the claimed digest is the data's (``check_data_hash``)."""
    if not header:
        raise IntegrityFailure("X-Signature header is missing")
    try:
        signature = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IntegrityFailure("X-Signature is not valid base64") from exc
    try:
        public_key.verify(
            signature, claimed_digest.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
        return SignatureForm.DATA_HASH
    except InvalidSignature:
        pass
    try:
        public_key.verify(
            signature, bytes.fromhex(claimed_digest), padding.PKCS1v15(), Prehashed(hashes.SHA256())
        )
        return SignatureForm.DATA_JSON
    except InvalidSignature:
        pass
    raise IntegrityFailure("X-Signature does not verify with Naga's public key")


def load_public_key(setting: str) -> rsa.RSAPublicKey:
    """Naga's public key from the ``NAGA_PUBLIC_KEY`` value: PEM text, or a path to a PEM file."""
    if not setting or not setting.strip():
        raise NagaKeyError("NAGA_PUBLIC_KEY is not set")
    return _parse_public_key(setting.strip())


@lru_cache(maxsize=8)
def _parse_public_key(setting: str) -> rsa.RSAPublicKey:
    # Cached by the setting's value, so a changed setting is read anew (tests, reloads); a key
    # file replaced in place is picked up at the next restart.
    pem = pem_bytes(setting, "NAGA_PUBLIC_KEY")
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise NagaKeyError("NAGA_PUBLIC_KEY is not a PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise NagaKeyError("NAGA_PUBLIC_KEY is not an RSA key")
    if key.key_size < MIN_KEY_BITS:
        raise NagaKeyError(f"NAGA_PUBLIC_KEY has {key.key_size} bits; at least 1024 are needed")
    return key


def pem_bytes(setting: str, name: str) -> bytes:
    """PEM text given inline (literal ``\\n`` allowed, as env files often hold it) or a path."""
    if "-----BEGIN" in setting:
        return setting.replace("\\n", "\n").encode("ascii")
    path = Path(setting).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NagaKeyError(f"{name}: cannot read the key file {path} ({exc.strerror})") from exc
