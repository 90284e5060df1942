"""VP (VertexPlay) single-wallet callbacks: ``POST /providers/vp/`` (docs/providers/vp.md).

One URL for every action. The body is ``{"cipherText": ...}`` (AES-256-GCM under
``VP_API_KEY``); the decrypted JSON names the ``action``: ``balance``, ``betNSettle``,
``retryBet`` or ``rollback``. Answers are plain JSON, HTTP 200, with VP's ``status`` code.

Order of checks: envelope, decryption (the GCM tag is what authenticates VP), the optional
signature headers, the action, its fields, then exactly one wallet service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.request import Request

from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection
from providers.fields import BadInput
from providers.parsers import provider_message
from providers.vp import codes, commands, config, nonces, signature
from providers.vp.authentication import VpSignatureAuthentication
from providers.vp.codes import VpStatus
from providers.vp.parsers import VpParser
from wallet.services import (
    Outcome,
    WalletResult,
    bet_cancel,
    bet_place_and_settle,
    wallet_balance,
)

PROVIDER = "vp"


class VpAdapter(ProviderAdapter):
    """Decrypts VP's callbacks, validates them, calls one wallet service and answers VP's codes.

    Refusals of every kind (unreadable, unauthenticated, unknown action, bad fields, a bug)
    answer ``9999`` so that VP retries; only the wallet's decisions get final codes.
    """

    slug = PROVIDER
    name = "VP (VertexPlay)"

    parser_class = VpParser
    authentication_class = VpSignatureAuthentication

    def execute(self, call: InboundCall, request: Request) -> ProviderAnswer:
        payload = provider_message(request).payload
        signed = call.journal.signature_form != signature.SignatureForm.ABSENT
        action = payload.get("action")
        if action is None:
            raise Refused(Rejection.BAD_INPUT, "action is missing")
        handler = _HANDLERS.get(action) if isinstance(action, str) else None
        if handler is None or not isinstance(action, str):
            raise Refused(Rejection.UNKNOWN_ACTION, f"unknown action {str(action)[:40]!r}")
        try:
            answer = handler(call, payload, action)
        except BadInput as exc:
            raise Refused(Rejection.BAD_INPUT, str(exc)) from exc
        if signed and answer.body["status"] != VpStatus.TRY_AGAIN:
            # The nonce is spent only with a decision that stands, in its transaction (the
            # endpoint's held commit), so a resend of a "try again" is processed; a refused
            # copy rolls back whatever the wallet had done for it.
            _claim_nonce(call)
        return answer

    def refuse(self, call: InboundCall, kind: Rejection, message: str) -> ProviderAnswer:
        return ProviderAnswer(codes.body(VpStatus.TRY_AGAIN, message, None), 200, kind.value)


def _claim_nonce(call: InboundCall) -> None:
    """Refuse a signed callback whose ``x-nonce`` was already used (a replayed copy).

    Called once the headers verified, so both are present and the timestamp is a number.
    """
    headers = call.request.headers
    nonce = str(headers.get(signature.NONCE_HEADER))
    timestamp_ms = int(str(headers.get(signature.TIMESTAMP_HEADER)))
    if not nonces.claim(nonce, timestamp_ms=timestamp_ms):
        call.journal.signature_form = signature.SignatureForm.REFUSED
        raise Refused(Rejection.AUTH_FAILED, f"{signature.NONCE_HEADER} was already used (replay)")


def _answer(result: WalletResult, table: dict[Any, VpStatus]) -> ProviderAnswer:
    status = codes.status_for(result.outcome, table)
    # A busy wallet's message is the database's own text: for the journal, never for VP.
    detail = result.message if result.outcome == Outcome.BUSY else ""
    text = codes.error_text(status, result.outcome, "" if detail else result.message)
    # A repeat is journaled "replay:<outcome>", as every provider's is (the journal's filters).
    outcome = ("replay:" if result.replay else "") + result.outcome.value
    return ProviderAnswer(codes.body(status, text, result.balance), 200, outcome, error=detail)


# --- actions ----------------------------------------------------------------------------------


def _balance(call: InboundCall, payload: dict[str, Any], action: str) -> ProviderAnswer:
    query = commands.parse_balance(payload)
    result = wallet_balance(account_id=query.account_id, currency=query.currency)
    return _answer(result, codes.BALANCE_CODES)


def _bet_and_settle(call: InboundCall, payload: dict[str, Any], action: str) -> ProviderAnswer:
    """``betNSettle`` and ``retryBet``: one movement of ``winAmt - actualBetAmt`` keyed on
    ``betId``; a retryBet repeating an earlier call is a replay (same answer, no money)."""
    bet = commands.parse_bet_and_settle(payload, action)
    call.journal.bet_key = bet.bet_id
    result = bet_place_and_settle(
        provider=PROVIDER,
        bet_key=bet.bet_id,
        tx_id=bet.bet_id,
        account_id=bet.account_id,
        currency=bet.currency,
        stake=bet.stake,
        win=bet.win,
        round_id=bet.round_id,
        game_code=bet.game_code,
        details=bet.details,
    )
    return _answer(result, codes.BET_CODES)


def _rollback(call: InboundCall, payload: dict[str, Any], action: str) -> ProviderAnswer:
    """Undo a betNSettle per vp.md's rollback table: a settled round stands (2003) unless
    ``VP_ROLLBACK_SETTLED=reverse``; an unknown betId is tombstoned (0000)."""
    rollback = commands.parse_rollback(payload)
    call.journal.bet_key = rollback.bet_id
    result = bet_cancel(
        provider=PROVIDER,
        bet_keys=[rollback.bet_id],
        tx_id=rollback.bet_id,
        account_id=rollback.account_id,
        settled_policy=config.rollback_settled_policy(),
        round_id=rollback.round_id,
    )
    return _answer(result, codes.ROLLBACK_CODES)


_Handler = Callable[[InboundCall, dict[str, Any], str], ProviderAnswer]

_HANDLERS: dict[str, _Handler] = {
    "balance": _balance,
    "betNSettle": _bet_and_settle,
    "retryBet": _bet_and_settle,
    "rollback": _rollback,
}
