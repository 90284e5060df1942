"""Naga Games seamless wallet: ``POST /providers/naga/<function>/`` (docs/providers/naga.md).

Every request is ``{"data": {...}, "dataHash": "<sha256 hex>"}`` with an ``X-Signature``
header. The adapter checks the hash against ``JSON.stringify(data)`` rebuilt exactly (keys in
the order received, JavaScript number printing), verifies the RSA signature with Naga's public
key, checks our group and brand codes, validates the function's fields into a typed command,
calls one wallet service and answers in Naga's envelope with HTTP status = ``statusCode``.

Sessions: authorize, place-bet and balance need a live ``playerToken`` we issued. Payout and
cancel-bet never do (Naga retries them long after the session ended), but a token they carry
that names another player than the bet's is refused (the wallet flags it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.request import Request

from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection
from providers.fields import BadInput
from providers.naga import codes, commands
from providers.naga.authentication import NagaSignatureAuthentication
from providers.naga.parsers import NagaParser
from providers.parsers import provider_message
from wallet.models import BetState, PlayerSession
from wallet.selectors import bet_find, bet_win_tx_ids
from wallet.services import (
    Outcome,
    WalletResult,
    bet_cancel,
    bet_open,
    bet_settle,
    session_find,
    wallet_balance,
)

SLUG = "naga"

#: Cancel outcomes that close the matter for Naga: the bet is not (or no longer) taken.
CANCEL_DONE = frozenset(
    {Outcome.CANCELLED, Outcome.TOMBSTONED, Outcome.NOTHING_TO_UNDO, Outcome.REVERSED}
)

#: Our bet states as Naga's bet-status values.
BET_STATUS = {
    BetState.OPEN: "PENDING",
    BetState.SETTLED: "RESOLVED",
    BetState.CANCELLED: "CANCELED",
    BetState.TOMBSTONE: "CANCELED",
    BetState.REFUSED: "FAILED",
}

Handler = Callable[["NagaAdapter", InboundCall, dict[str, Any]], ProviderAnswer]


class NagaAdapter(ProviderAdapter):
    """Naga's six functions over one wallet service each (bet-status reads a selector)."""

    slug = SLUG
    name = "Naga Games"
    functions = ("authorize", "place-bet", "payout", "cancel-bet", "bet-status", "balance")
    secret_fields = frozenset({"playerToken"})

    cancel_function = "cancel-bet"
    parser_class = NagaParser
    authentication_class = NagaSignatureAuthentication

    def execute(self, call: InboundCall, request: Request) -> ProviderAnswer:
        data = provider_message(request).data
        try:
            return _HANDLERS[call.function](self, call, data)
        except BadInput as exc:
            raise Refused(Rejection.BAD_INPUT, str(exc)) from exc

    def refuse(self, call: InboundCall, kind: Rejection, message: str) -> ProviderAnswer:
        return codes.rejection(kind, message)

    def _live_session(self, call: InboundCall, token: str) -> PlayerSession:
        session = session_find(token=token, provider=SLUG)
        if session is None:
            raise Refused(
                Rejection.AUTH_FAILED, f"{codes.INVALID_TOKEN}: unknown, expired or revoked"
            )
        call.journal.account_id = session.player.account_id
        return session

    def _token_player(self, call: InboundCall, token: str) -> str | None:
        """The account behind a token on payout/cancel, live or not; None when there is none
        (those functions work without a session, so an unknown token is not a refusal)."""
        if not token:
            return None
        session = session_find(token=token, provider=SLUG, live_only=False)
        if session is None:
            return None
        call.journal.account_id = session.player.account_id
        return session.player.account_id

    # --- functions --------------------------------------------------------------------------

    def authorize(self, call: InboundCall, data: dict[str, Any]) -> ProviderAnswer:
        """authorize and balance: the token's player, currency and balance."""
        query = commands.session_query(data)
        session = self._live_session(call, query.player_token)
        result = wallet_balance(account_id=session.player.account_id, currency=session.currency)
        if result.outcome != Outcome.OK:
            return codes.outcome_failure(result)
        return codes.success(
            {
                "nativeId": session.player.account_id,
                "currency": result.currency,
                "balance": codes.balance_number(result.balance),
            }
        )

    def place_bet(self, call: InboundCall, data: dict[str, Any]) -> ProviderAnswer:
        """Debit the stake (0 for a free spin) and open the bet keyed by ``betId``."""
        command = commands.bet_command(data, token_required=True)
        session = self._live_session(call, command.player_token)
        if command.currency != session.currency:
            raise BadInput(f"currency {command.currency!r} is not the session's")
        result = bet_open(
            provider=SLUG,
            bet_key=command.bet_id,
            tx_id=command.transaction_id,
            account_id=session.player.account_id,
            currency=command.currency,
            amount=command.amount,
            # A free-spin series shares its parent's id: staff find the series by round.
            round_id=command.parent_bet_id or command.bet_id,
            game_code=command.game_code,
            details=command.details(),
        )
        return _money_answer(result)

    def payout(self, call: InboundCall, data: dict[str, Any]) -> ProviderAnswer:
        """Credit the win (0 allowed: a lost bet) and settle the bet."""
        command = commands.bet_command(data, token_required=False)
        result = bet_settle(
            provider=SLUG,
            bet_keys=[command.bet_id],
            tx_id=command.transaction_id,
            amount=command.amount,
            account_id=self._token_player(call, command.player_token),
            currency=command.currency,
        )
        _journal_bet_player(call, result)
        return _money_answer(result)

    def cancel_bet(self, call: InboundCall, data: dict[str, Any]) -> ProviderAnswer:
        """Refund an open bet's stored stake; tombstone an unknown one (both 200 CANCELED)."""
        command = commands.cancel_command(data)
        result = bet_cancel(
            provider=SLUG,
            bet_keys=[command.bet_id],
            account_id=self._token_player(call, command.player_token),
        )
        _journal_bet_player(call, result)
        if result.outcome not in CANCEL_DONE:
            return codes.outcome_failure(result)
        return codes.success(
            {"betId": command.bet_id, "status": "CANCELED"}, codes.journal_outcome(result)
        )

    def bet_status(self, call: InboundCall, data: dict[str, Any]) -> ProviderAnswer:
        """Our state of a bet, as Naga's PENDING / RESOLVED / CANCELED / FAILED."""
        query = commands.status_query(data)
        bet = bet_find(provider=SLUG, bet_key=query.bet_id)
        owner = bet.player.account_id if bet is not None and bet.player is not None else ""
        if bet is None or (query.player_id and owner and owner != query.player_id):
            # Another player's bet is not revealed: it is "not found" for this player.
            return codes.failure(404, codes.NOT_FOUND, Outcome.BET_NOT_FOUND.value)
        call.journal.account_id = owner
        payouts = bet_win_tx_ids(bet_id=bet.pk)
        return codes.success(
            {
                "betId": bet.bet_key,
                "transactionPlaceBetId": bet.open_tx_id or None,
                "transactionPayoutId": payouts[-1] if payouts else None,
                "status": BET_STATUS[BetState(bet.state)],
            }
        )


def _money_answer(result: WalletResult) -> ProviderAnswer:
    """place-bet and payout: ``{currency, balance}`` or Naga's error for the outcome."""
    if result.outcome != Outcome.OK:
        return codes.outcome_failure(result)
    return codes.success(
        {"currency": result.currency, "balance": codes.balance_number(result.balance)},
        codes.journal_outcome(result),
    )


def _journal_bet_player(call: InboundCall, result: WalletResult) -> None:
    if not call.journal.account_id and result.bet is not None and result.bet.player is not None:
        call.journal.account_id = result.bet.player.account_id


_HANDLERS: dict[str, Handler] = {
    "authorize": NagaAdapter.authorize,
    "balance": NagaAdapter.authorize,
    "place-bet": NagaAdapter.place_bet,
    "payout": NagaAdapter.payout,
    "cancel-bet": NagaAdapter.cancel_bet,
    "bet-status": NagaAdapter.bet_status,
}
