"""JDB's DRF parser: the form field ``x``, AES-128-CBC, into the decrypted payload.

A body that does not decrypt is an authentication failure (the cipher is JDB's proof); one that
decrypts to JSON we refuse is bad input. What the payload says is journaled before anything is
validated, read tolerantly of any shape, so that every refusal can be found by bet and player.

The body is ``application/x-www-form-urlencoded`` with one field ``x``; we parse the raw bytes
ourselves (``urllib.parse``) rather than ``request.POST``, so the body limit, the encoding and
duplicate fields are under our control.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs

from rest_framework.exceptions import AuthenticationFailed, ParseError

from providers.base import InboundCall
from providers.jdb.commands import CANCEL_ACTIONS, JdbAction
from providers.jdb.config import aes_key_and_iv
from providers.jdb.crypto import JdbCryptoError, decrypt
from providers.parsers import ProviderParser
from providers.wire import TooDeep, WireError, check_depth, loads_object

SIGNATURE_FORM = "aes-128-cbc"
_MAX_FORM_FIELDS = 20


class JdbParser(ProviderParser):
    def decode(self, call: InboundCall) -> dict[str, Any]:
        call.journal.signature_form = SIGNATURE_FORM
        key, iv = aes_key_and_iv()  # a misconfiguration raises: answered 9017 (see the adapter)
        try:
            payload = decode_payload(read_x(call.body), key, iv)
        except NotAuthenticated as exc:
            raise AuthenticationFailed(str(exc)) from exc
        except UnacceptableJson as exc:
            describe(call, exc.payload)
            raise ParseError(str(exc)) from exc
        describe(call, payload)
        return payload


def describe(call: InboundCall, payload: dict[str, Any]) -> None:
    """Fill the journal draft from a decrypted payload; never raises, whatever its shape."""
    draft = call.journal
    draft.payload = payload
    action = _loose_action(payload)
    raw_action = payload.get("action")
    if action is not None:
        draft.action = action.label
    elif raw_action is not None:
        draft.action = f"{_as_text(raw_action) or type(raw_action).__name__} (unknown)"
    draft.is_cancel = action in CANCEL_ACTIONS or may_be_action_4(payload)
    draft.account_id = _as_text(payload.get("uid"))
    if action == JdbAction.CANCEL_WITHDRAW:
        draft.bet_key = _as_text(payload.get("refTransferId"))
    elif action in (JdbAction.SETTLE, JdbAction.DEPOSIT, JdbAction.CANCEL_BET):
        refs = payload.get("refTransferIds")
        # The journal row holds one bet key: the first ref (JDB usually sends one).
        draft.bet_key = _as_text(refs[0]) if isinstance(refs, list) and refs else ""
    else:
        draft.bet_key = _as_text(payload.get("transferId"))


def _loose_action(payload: dict[str, Any]) -> JdbAction | None:
    number = _loose_number(payload.get("action"))
    if number is None:
        return None
    try:
        return JdbAction(number)
    except ValueError:
        return None


def _loose_number(value: object) -> int | None:
    """4, "4", 4.0 and " 4 " all read as 4: used only to be careful, never to accept."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) > 1000 or number != number.to_integral_value():
        return None
    return int(number)


def may_be_action_4(payload: dict[str, Any]) -> bool:
    return _loose_number(payload.get("action")) == JdbAction.CANCEL_BET_N_SETTLE


def _as_text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value)[:128]


class NotAuthenticated(ValueError):
    """``x`` is missing or does not decrypt to a JSON object: we cannot trust or read it."""


class UnacceptableJson(ValueError):
    """``x`` decrypted to a JSON object we refuse (NaN, Infinity, a duplicate key).

    The key was right (the text parsed), so this is a parameter error, not an authentication
    failure; ``payload`` is a journal-safe reading of it (constants kept as text).
    """

    def __init__(self, message: str, payload: dict[str, Any]) -> None:
        super().__init__(message)
        self.payload = payload


def read_x(body: bytes) -> str:
    """The single ``x`` value of the form body."""
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAuthenticated(f"body is not a form: {str(exc)[:80]}") from exc
    values = fields.get("x")
    if not values:
        raise NotAuthenticated("form field x is missing")
    if len(values) > 1:
        raise NotAuthenticated("form field x is given more than once")
    if not values[0].strip():
        raise NotAuthenticated("form field x is empty")
    return values[0]


def decode_payload(x: str, key: bytes, iv: bytes) -> dict[str, Any]:
    """Decrypt ``x`` and parse it as a strict JSON object (numbers as exact ``Decimal``)."""
    try:
        text = decrypt(x, key, iv)
    except JdbCryptoError as exc:
        raise NotAuthenticated(str(exc)) from exc
    try:
        return loads_object(text)
    except TooDeep as exc:  # it decrypted, so JDB's key made it: a parameter error, not read
        raise UnacceptableJson(str(exc), {}) from exc
    except WireError as exc:
        lenient = _lenient_object(text)
        if lenient is None:
            raise NotAuthenticated(f"x does not decrypt to a JSON object: {exc}") from exc
        raise UnacceptableJson(str(exc), lenient) from exc


def _lenient_object(text: str) -> dict[str, Any] | None:
    """The object as a permissive parser reads it, or None when it is not JSON at all."""
    try:
        check_depth(text)  # the journal keeps what this returns: never deeper than the limit
        value = json.loads(text, parse_float=str, parse_constant=str)
    except ValueError:  # TooDeep is one
        return None
    return value if isinstance(value, dict) else None
