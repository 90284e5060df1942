"""What VP sends us: an encrypted callback with signature headers, built from plain JSON.

Used by the tests, ``manage.py provider_call vp '<json>'`` and the load harness. Keys are read
at call time (``VP_API_KEY``, ``VP_AGENT_ID``, through ``providers.vp.config``).
"""

from __future__ import annotations

import json
from typing import Any

from providers.client_base import SignedRequest
from providers.vp import config, signature
from providers.vp.crypto import encrypt, vp_key
from providers.wire import dumps

PATH = "/providers/vp/"


def encrypt_payload(payload: dict[str, Any], *, api_key_hex: str | None = None) -> str:
    """The ``cipherText`` for a payload (Decimals written exactly), under ``VP_API_KEY``."""
    key = vp_key(api_key_hex) if api_key_hex is not None else config.api_key()
    return encrypt(dumps(payload).encode("utf-8"), key)


def envelope(cipher_text: str) -> bytes:
    return json.dumps({"cipherText": cipher_text}).encode()


def build_request(payload: dict[str, Any], *, function: str = "") -> SignedRequest:
    """An encrypted callback signed in VP's current form (``agentId|timestamp|nonce|cipherText``).

    ``function`` is unused: VP has one URL for every action.
    """
    cipher_text = encrypt_payload(payload)
    return SignedRequest(
        path=PATH,
        body=envelope(cipher_text),
        headers=signature.new_headers(config.agent_id(), cipher_text),
    )
