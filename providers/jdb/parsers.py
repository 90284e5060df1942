"""JDB's DRF parser: the form field ``x``, AES-128-CBC, into the decrypted payload.

A body that does not decrypt is an authentication failure (the cipher is JDB's proof); one that
decrypts to JSON we refuse is bad input. What the payload says is journaled before anything is
validated, read tolerantly of any shape, so that every refusal can be found by bet and player.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from rest_framework.exceptions import AuthenticationFailed, ParseError

from providers.base import InboundCall
from providers.jdb.codec import NotAuthenticated, UnacceptableJson, decode_payload, read_x
from providers.jdb.commands import CANCEL_ACTIONS, JdbAction
from providers.jdb.config import aes_key_and_iv
from providers.parsers import ProviderParser

SIGNATURE_FORM = "aes-128-cbc"


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
