"""VP's DRF parser: ``{"cipherText"}`` opened with AES-256-GCM under ``VP_API_KEY``.

The GCM tag is what authenticates VP's body: a cipher text that does not open is an
authentication failure; an envelope or a decrypted text that is not a JSON object is bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import AuthenticationFailed, ParseError

from providers.base import InboundCall
from providers.parsers import ProviderParser
from providers.vp import config
from providers.vp.crypto import VpCryptoError, decrypt
from providers.wire import WireError, loads_object


@dataclass(frozen=True)
class VpMessage:
    cipher_text: str  # what VP's signature headers sign, with the body
    payload: dict[str, Any]


class VpParser(ProviderParser):
    def decode(self, call: InboundCall) -> VpMessage:
        cipher_text = _cipher_text(call.body)
        payload = _decrypt_payload(cipher_text)
        _note_payload(call, payload)
        return VpMessage(cipher_text, payload)


def _cipher_text(body: bytes) -> str:
    try:
        envelope = loads_object(body)
    except WireError as exc:
        raise ParseError(str(exc)) from exc
    cipher_text = envelope.get("cipherText")
    if cipher_text is None:
        raise ParseError("cipherText is missing")
    if not isinstance(cipher_text, str) or not cipher_text:
        raise ParseError("cipherText must be a non-empty string")
    return cipher_text


def _decrypt_payload(cipher_text: str) -> dict[str, Any]:
    key = config.api_key()  # a bad key is ours: ImproperlyConfigured, an unexpected failure
    try:
        plaintext = decrypt(cipher_text, key)
    except VpCryptoError as exc:
        raise AuthenticationFailed(str(exc)) from exc
    try:
        return loads_object(plaintext)
    except WireError as exc:
        raise ParseError(f"decrypted text: {exc}") from exc


def _note_payload(call: InboundCall, payload: dict[str, Any]) -> None:
    """Journal what the request says before validating it, so refusals are findable too."""
    call.journal.payload = payload
    action = payload.get("action")
    call.journal.action = action if isinstance(action, str) else ""
    call.journal.is_cancel = action == "rollback"
    uid = payload.get("uid")
    call.journal.account_id = uid if isinstance(uid, str) else ""
    bet_id = payload.get("betId")
    if isinstance(bet_id, str | int) and not isinstance(bet_id, bool):
        call.journal.bet_key = str(bet_id)
