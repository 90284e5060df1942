"""The cipherText layout of vp.md, checked against an independent AES-GCM call, and the client."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from providers.vp.client import build_request
from providers.vp.crypto import VpCryptoError, decrypt, encrypt, vp_key

KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
KEY = bytes.fromhex(KEY_HEX)


def test_the_seed_example_splits_into_a_12_byte_iv_and_a_16_byte_tag() -> None:
    seed = "G0ZMDELeJwx+7JcIfIFOLJjkSzANPu6krGM2uw=="
    assert len(base64.b64decode(seed[:16])) == 12
    assert len(base64.b64decode(seed[16:40])) == 16


def test_what_we_encrypt_decrypts_with_the_formula_in_vp_md() -> None:
    cipher_text = encrypt(b'{"action":"balance"}', KEY)
    iv = base64.b64decode(cipher_text[:16])
    tag = base64.b64decode(cipher_text[16:40])
    ciphertext = base64.b64decode(cipher_text[40:])
    assert AESGCM(KEY).decrypt(iv, ciphertext + tag, None) == b'{"action":"balance"}'


def test_what_vp_encrypts_by_the_formula_we_decrypt() -> None:
    iv = os.urandom(12)
    sealed = AESGCM(KEY).encrypt(iv, b'{"uid":"alice"}', None)
    cipher_text = (
        base64.b64encode(iv).decode()
        + base64.b64encode(sealed[-16:]).decode()
        + base64.b64encode(sealed[:-16]).decode()
    )
    assert decrypt(cipher_text, KEY) == b'{"uid":"alice"}'


def test_every_encryption_uses_a_fresh_iv() -> None:
    assert encrypt(b"same", KEY)[:16] != encrypt(b"same", KEY)[:16]


@pytest.mark.parametrize("key_hex", ["", "zz" * 32, "00" * 16, "00" * 33])
def test_the_api_key_must_be_64_hex_characters(key_hex: str) -> None:
    with pytest.raises(VpCryptoError):
        vp_key(key_hex)


def test_the_client_reads_the_key_and_agent_at_call_time(settings: pytest.FixtureRequest) -> None:
    settings.VP_API_KEY = "ab" * 32  # type: ignore[attr-defined]
    settings.VP_AGENT_ID = "agentChanged"  # type: ignore[attr-defined]
    request = build_request({"action": "balance", "uid": "alice", "currency": "USD"})
    cipher_text = json.loads(request.body)["cipherText"]
    assert json.loads(decrypt(cipher_text, bytes.fromhex("ab" * 32)))["uid"] == "alice"
    with pytest.raises(VpCryptoError):
        decrypt(cipher_text, KEY)
    assert request.headers["x-agentid"] == "agentChanged"
    assert request.path == "/providers/vp/" and request.content_type == "application/json"
