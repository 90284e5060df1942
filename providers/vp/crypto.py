"""VP's AES-256-GCM body encryption, both directions (docs/providers/vp.md).

``cipherText`` = base64(iv, 12 bytes) + base64(tag, 16 bytes) + base64(ciphertext), standard
alphabet with padding, concatenated: the IV is ``s[0:16]``, the tag ``s[16:40]``, the rest is
the ciphertext. No associated data.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

IV_B64_LEN = 16  # 12 bytes
TAG_B64_LEN = 24  # 16 bytes


class VpCryptoError(ValueError):
    """The cipher text is malformed or does not authenticate under our key."""


def vp_key(api_key_hex: str) -> bytes:
    """The AES key: ``bytes.fromhex(VP_API_KEY)``, which must be 32 bytes."""
    try:
        key = bytes.fromhex(api_key_hex)
    except ValueError as exc:
        raise VpCryptoError("VP_API_KEY is not hexadecimal") from exc
    if len(key) != 32:
        raise VpCryptoError("VP_API_KEY must be 64 hex characters (32 bytes)")
    return key


def encrypt(plaintext: bytes, key: bytes, *, iv: bytes | None = None) -> str:
    iv = iv if iv is not None else os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, plaintext, None)  # ciphertext || tag
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return (
        base64.b64encode(iv).decode()
        + base64.b64encode(tag).decode()
        + base64.b64encode(ciphertext).decode()
    )


def decrypt(cipher_text: str, key: bytes) -> bytes:
    if not isinstance(cipher_text, str) or len(cipher_text) <= IV_B64_LEN + TAG_B64_LEN:
        raise VpCryptoError("cipherText is too short to hold an IV, a tag and a ciphertext")
    try:
        iv = base64.b64decode(cipher_text[:IV_B64_LEN], validate=True)
        tag = base64.b64decode(cipher_text[IV_B64_LEN : IV_B64_LEN + TAG_B64_LEN], validate=True)
        ciphertext = base64.b64decode(cipher_text[IV_B64_LEN + TAG_B64_LEN :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VpCryptoError("cipherText is not valid base64") from exc
    if len(iv) != 12 or len(tag) != 16 or not ciphertext:
        raise VpCryptoError("cipherText has a wrong IV or tag length")
    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag as exc:
        raise VpCryptoError("cipherText does not authenticate (wrong key or tampered)") from exc
