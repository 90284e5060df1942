"""Naga's answer envelope and the mapping from wallet outcomes to Naga's status and message.

Success: HTTP 200 ``{"data": {...}, "error": null}``. Failure: HTTP status = ``statusCode``,
``{"data": null, "error": {"statusCode": N, "message": "..."}}`` (the table in naga.md).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from providers.base import ProviderAnswer, Rejection
from wallet.money import round_down
from wallet.services import Outcome, WalletResult

BALANCE_PLACES = 2

INVALID_SIGNATURE = "Invalid signature"
INVALID_TOKEN = "Invalid player token"
INVALID_PARAMETERS = "Invalid parameters"
NOT_FOUND = "Transaction Not Found"
ALREADY_RESOLVED = "Transaction Seamless Already Resolved"
BET_CANCELED = "Bet canceled"
DUPLICATE_BET = "Duplicate bet"
UNAVAILABLE = "Temporarily unavailable"

#: Wallet outcomes that refuse a request, as Naga's (HTTP status, message).
OUTCOME_FAILURES: dict[Outcome, tuple[int, str]] = {
    Outcome.INSUFFICIENT_FUNDS: (400, "Insufficient balance"),
    Outcome.BET_CANCELLED: (400, BET_CANCELED),
    Outcome.ALREADY_SETTLED: (400, ALREADY_RESOLVED),
    # Naga bets are plain debits, so a kept bet-and-settle round cannot happen; if it ever did,
    # the bet stands and the cancel must not claim success.
    Outcome.KEPT: (400, ALREADY_RESOLVED),
    Outcome.BET_NOT_FOUND: (404, NOT_FOUND),
    Outcome.MISMATCH: (409, DUPLICATE_BET),
    Outcome.AMOUNT_MISMATCH: (409, DUPLICATE_BET),
    Outcome.PLAYER_BLOCKED: (403, "Player blocked"),
    Outcome.PLAYER_NOT_FOUND: (401, INVALID_TOKEN),
    Outcome.WRONG_CURRENCY: (400, f"{INVALID_PARAMETERS}: currency is not the bet's or wallet's"),
    Outcome.BUSY: (503, UNAVAILABLE),
    Outcome.BALANCE_LIMIT: (400, f"{INVALID_PARAMETERS}: the balance would exceed its limit"),
}

#: Refusals decided before the wallet (view or adapter), as Naga's (HTTP status, message).
REJECTION_STATUS: dict[Rejection, tuple[int, str]] = {
    Rejection.BAD_INPUT: (400, INVALID_PARAMETERS),
    Rejection.AUTH_FAILED: (401, INVALID_SIGNATURE),
    Rejection.FORBIDDEN_IP: (403, "Forbidden"),
    Rejection.UNKNOWN_ACTION: (404, "Unknown function"),
    Rejection.TOO_LARGE: (413, "Payload too large"),
    Rejection.UNEXPECTED: (503, UNAVAILABLE),
}


def success(data: dict[str, Any], outcome: str = "ok") -> ProviderAnswer:
    return ProviderAnswer({"data": data, "error": None}, 200, outcome)


def failure(status: int, message: str, outcome: str) -> ProviderAnswer:
    body = {"data": None, "error": {"statusCode": status, "message": message}}
    return ProviderAnswer(body, status, outcome)


def outcome_failure(result: WalletResult) -> ProviderAnswer:
    """A refusing wallet outcome as Naga's error; anything unmapped is "try again" (503)."""
    status, message = OUTCOME_FAILURES.get(result.outcome, (503, UNAVAILABLE))
    answer = failure(status, message, journal_outcome(result))
    # A busy wallet's message is the database's own text: the journal keeps it, Naga does not.
    return replace(answer, error=result.message) if result.outcome == Outcome.BUSY else answer


def rejection(kind: Rejection, message: str) -> ProviderAnswer:
    """A refusal raised before the wallet. Bad input keeps its detail (``<which>``); the two
    401 messages are Naga-facing constants, chosen by the prefix the adapter raised them with."""
    status, public = REJECTION_STATUS.get(kind, (503, UNAVAILABLE))
    if kind == Rejection.BAD_INPUT:
        public = f"{INVALID_PARAMETERS}: {message}"
    elif kind == Rejection.AUTH_FAILED and message.startswith(INVALID_TOKEN):
        public = INVALID_TOKEN
    return failure(status, public, kind.value)


def balance_number(balance: Decimal | None) -> Decimal:
    """A balance as Naga shows it: 2 decimals, rounded down (never overstated)."""
    return round_down(balance if balance is not None else Decimal(0), BALANCE_PLACES)


def journal_outcome(result: WalletResult) -> str:
    """The wallet's decision for the journal; a repeat is ``replay:<outcome>`` (the journal
    admin's convention, shared by every adapter)."""
    return f"replay:{result.outcome.value}" if result.replay else result.outcome.value
