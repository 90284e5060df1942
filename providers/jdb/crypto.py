"""JDB's AES-128-CBC encryption of the form field ``x`` (docs/providers/jdb.md).

JDB pads the plaintext with ASCII spaces (not PKCS#7) to a multiple of 16 bytes, encrypts it with
AES-128-CBC under the agent's key and IV, and sends URL-safe base64 without ``=`` padding. We
decrypt with no padding scheme and strip trailing spaces and NULs.

Key and IV text (``JDB_AES_KEY``, ``JDB_AES_IV``) map to 16 bytes as PHP's ``openssl_encrypt``
does, which JDB's published test vector relies on: the text's UTF-8 bytes, right-padded with NUL
bytes up to 16. A normal 16-character key is used as it is; longer text is a configuration error
(AES-128 has no room for it, and silently truncating a key would hide a mistake).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class JdbKeyError(ValueError):
    """``JDB_AES_KEY`` or ``JDB_AES_IV`` cannot be used (our configuration, not the caller)."""


class JdbCryptoError(ValueError):
    """``x`` is not URL-safe base64 of whole AES blocks, or does not decrypt to text."""


def key_bytes(text: str, *, name: str = "JDB_AES_KEY") -> bytes:
    """The 16 key (or IV) bytes for a configured text: UTF-8, NUL-padded to 16 bytes."""
    if not isinstance(text, str) or not text:
        raise JdbKeyError(f"{name} is not set")
    raw = text.encode("utf-8")
    if len(raw) > BLOCK:
        raise JdbKeyError(f"{name} is {len(raw)} bytes; AES-128 takes at most {BLOCK}")
    return raw.ljust(BLOCK, b"\0")


@functools.lru_cache(maxsize=16)
def _cipher(key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    """The cipher for a key and IV, made once: each call to it makes a new, single-use
    context; checking the key and IV again on every request buys nothing."""
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def encrypt(plaintext: bytes, key: bytes, iv: bytes) -> str:
    """What JDB sends as ``x``: space-padded, AES-128-CBC, URL-safe base64 without ``=``."""
    padded = plaintext + b" " * (-len(plaintext) % BLOCK)
    encryptor = _cipher(key, iv).encryptor()
    sealed = encryptor.update(padded) + encryptor.finalize()
    return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def decrypt(x: str, key: bytes, iv: bytes) -> str:
    """The plaintext of ``x`` with JDB's space padding (and any NULs) stripped from the end.

    Raises ``JdbCryptoError`` for anything that is not URL-safe base64 of whole AES blocks or
    that does not decrypt to UTF-8 text (a wrong key almost always ends here).
    """
    text = x.strip()
    if not _URLSAFE_B64.fullmatch(text):
        raise JdbCryptoError("x is not URL-safe base64")
    text = text.rstrip("=")
    if len(text) % 4 == 1:
        raise JdbCryptoError("x has an impossible base64 length")
    try:
        sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JdbCryptoError("x is not URL-safe base64") from exc
    if not sealed or len(sealed) % BLOCK:
        raise JdbCryptoError(
            f"x holds {len(sealed)} bytes, not a whole number of {BLOCK}-byte AES blocks"
        )
    decryptor = _cipher(key, iv).decryptor()
    plain = decryptor.update(sealed) + decryptor.finalize()
    try:
        return plain.rstrip(b" \0").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JdbCryptoError("x does not decrypt to text under our key") from exc
