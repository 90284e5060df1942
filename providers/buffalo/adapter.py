"""Buffalo one wallet (Evolution-style): ``POST /providers/buffalo/<method>``.

Authentication is a static token (``BUFFALO_AUTH_TOKEN``) in ``?authToken=`` and/or
``Authorization: Bearer``; the body is JSON; every answer is HTTP 200 JSON with a ``status`` from
Evolution's set, the request's ``uuid`` echoed, and, once the caller is authenticated and the
player known, the balance (rounded down to 6 decimals) and ``bonus`` 0. The wire contract is
``docs/providers/buffalo.md``; the methods are in ``providers.buffalo.methods``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework.request import Request

from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection
from providers.buffalo import config
from providers.buffalo.authentication import (
    QUERY_PARAMETER,
    BuffaloTokenAuthentication,
    TokenRefused,
    token_forms,
)
from providers.buffalo.codes import Status
from providers.buffalo.commands import request_uuid
from providers.buffalo.methods import METHODS, SessionRefused
from providers.buffalo.parsers import BuffaloParser, note
from providers.fields import BadInput
from providers.parsers import provider_message
from providers.wire import WireError, loads_object
from wallet.money import round_down
from wallet.selectors import player_balance

BALANCE_PLACES = 6

# Refusals raised before (or instead of) a method, in Buffalo's codes.
_REFUSAL_STATUS: dict[Rejection, Status] = {
    Rejection.AUTH_FAILED: Status.INVALID_TOKEN_ID,
    Rejection.BAD_INPUT: Status.INVALID_PARAMETER,
    Rejection.TOO_LARGE: Status.INVALID_PARAMETER,
    Rejection.UNKNOWN_ACTION: Status.UNKNOWN_ERROR,
    Rejection.FORBIDDEN_IP: Status.UNKNOWN_ERROR,
    # A bug or an outage: "try again" is the only answer that cannot lose money.
    Rejection.UNEXPECTED: Status.TEMPORARY_ERROR,
}


def _balance_text(amount: Decimal) -> Decimal:
    """Rounded down to Buffalo's 6 places, trailing zeros dropped (1000, 999.35)."""
    rounded = round_down(amount, BALANCE_PLACES)
    return rounded.normalize() if rounded else Decimal(0)


def _body(status: Status, uuid: str, balance: Decimal | None, sid: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"status": status.value}
    if sid:
        body["sid"] = sid
    if balance is not None:
        body["balance"] = _balance_text(balance)
        body["bonus"] = 0  # we hold no bonus money
    if uuid:
        body["uuid"] = uuid
    return body


def _best_effort_payload(body: bytes) -> dict[str, Any]:
    try:
        return loads_object(body) if body else {}
    except WireError:
        return {}


class BuffaloAdapter(ProviderAdapter):
    """Buffalo's check, balance, debit, credit, cancel and (test only) sid methods."""

    slug = "buffalo"
    name = "Buffalo"
    functions = ("check", "balance", "debit", "credit", "cancel", "sid")
    # The sid is a bearer credential for a player's session; the token never reaches the body,
    # but a caller could put it there by mistake.
    secret_fields = frozenset({"sid", QUERY_PARAMETER})

    cancel_function = "cancel"
    parser_class = BuffaloParser
    authentication_class = BuffaloTokenAuthentication

    def execute(self, call: InboundCall, request: Request) -> ProviderAnswer:
        if call.function == "sid" and not config.sid_method_enabled():
            # Off in production: indistinguishable from a method we do not have.
            raise Refused(Rejection.UNKNOWN_ACTION, "the sid method is disabled")
        payload = provider_message(request)
        try:
            reply = METHODS[call.function](payload)
        except BadInput as exc:
            raise Refused(Rejection.BAD_INPUT, str(exc)) from None
        except SessionRefused as refusal:
            reply = refusal.reply
        call.journal.outcome = reply.outcome
        call.journal.error = reply.message
        if reply.bet_key:
            call.journal.bet_key = reply.bet_key
        return ProviderAnswer(
            _body(reply.status, reply.uuid, reply.balance, reply.sid), 200, reply.outcome
        )

    def refuse(self, call: InboundCall, kind: Rejection, message: str) -> ProviderAnswer:
        """Buffalo's answer to a refusal: balance only for an authenticated caller."""
        payload = call.journal.payload
        if not isinstance(payload, dict):
            payload = _best_effort_payload(call.body)
            note(call, payload)
        call.journal.action = call.journal.action or call.function[:64]
        status = _REFUSAL_STATUS.get(kind, Status.TEMPORARY_ERROR)
        if kind == Rejection.UNKNOWN_ACTION and not call.journal.signature_form:
            # Unknown methods are not revealed to a caller without the token.
            try:
                call.journal.signature_form = token_forms(call.request)
            except TokenRefused as exc:
                status = Status.INVALID_TOKEN_ID
                call.journal.outcome = Rejection.AUTH_FAILED.value
                call.journal.error = str(exc)
        authenticated = bool(call.journal.signature_form) and status != Status.INVALID_TOKEN_ID
        shown = self._balance_or_none(payload) if authenticated else None
        return ProviderAnswer(_body(status, request_uuid(payload), shown), 200, kind.value)

    @staticmethod
    def _balance_or_none(payload: dict[str, Any]) -> Decimal | None:
        user_id, currency = payload.get("userId"), payload.get("currency")
        if not isinstance(user_id, str) or not user_id:
            return None
        try:
            known = player_balance(
                account_id=user_id, currency=currency.upper() if isinstance(currency, str) else ""
            )
        except Exception:  # the database may be what failed; the refusal must still go out
            return None
        return known[0] if known else None
