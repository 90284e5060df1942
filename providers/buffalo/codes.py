"""Buffalo's status codes (Evolution's set) and how each wallet outcome maps onto them.

The tables are "Status codes we answer" in ``docs/providers/buffalo.md``. Evolution-style repeats
differ from our common rule ("same answer as the first time"): a repeated debit answers
``BET_ALREADY_EXIST`` and a repeated credit or cancel ``BET_ALREADY_SETTLED``, so the first
decision and its replay map differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from wallet.services import Outcome, WalletResult


class Status(StrEnum):
    OK = "OK"
    TEMPORARY_ERROR = "TEMPORARY_ERROR"
    INVALID_TOKEN_ID = "INVALID_TOKEN_ID"
    INVALID_SID = "INVALID_SID"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    UNKNOWN_ERROR = "UNKNOWN_ERROR"
    INVALID_PARAMETER = "INVALID_PARAMETER"
    BET_DOES_NOT_EXIST = "BET_DOES_NOT_EXIST"
    BET_ALREADY_EXIST = "BET_ALREADY_EXIST"
    BET_ALREADY_SETTLED = "BET_ALREADY_SETTLED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"


# Outcomes every money method answers alike.
_COMMON: dict[Outcome, Status] = {
    Outcome.PLAYER_NOT_FOUND: Status.INVALID_SID,
    Outcome.WRONG_CURRENCY: Status.INVALID_PARAMETER,
    Outcome.MISMATCH: Status.INVALID_PARAMETER,  # an id reused with other content; flagged
    Outcome.BUSY: Status.TEMPORARY_ERROR,
    Outcome.BALANCE_LIMIT: Status.INVALID_PARAMETER,
}

DEBIT: Mapping[Outcome, Status] = {
    **_COMMON,
    Outcome.OK: Status.OK,
    Outcome.INSUFFICIENT_FUNDS: Status.INSUFFICIENT_FUNDS,
    Outcome.PLAYER_BLOCKED: Status.ACCOUNT_LOCKED,
    # The debit's refId was cancelled first (a tombstone) or already cancelled.
    Outcome.BET_CANCELLED: Status.BET_ALREADY_SETTLED,
}
# Only an accepted debit becomes BET_ALREADY_EXIST on repeat: a repeat of a refused one
# (insufficient funds, blocked) keeps its refusal, or Buffalo would believe the stake was taken.
DEBIT_REPLAY: Mapping[Outcome, Status] = {Outcome.OK: Status.BET_ALREADY_EXIST}

CREDIT: Mapping[Outcome, Status] = {
    **_COMMON,
    Outcome.OK: Status.OK,
    Outcome.BET_NOT_FOUND: Status.BET_DOES_NOT_EXIST,
    Outcome.BET_CANCELLED: Status.BET_ALREADY_SETTLED,
    Outcome.ALREADY_SETTLED: Status.BET_ALREADY_SETTLED,
}
CREDIT_REPLAY: Mapping[Outcome, Status] = {Outcome.OK: Status.BET_ALREADY_SETTLED}

CANCEL: Mapping[Outcome, Status] = {
    **_COMMON,
    Outcome.CANCELLED: Status.OK,
    Outcome.NOTHING_TO_UNDO: Status.OK,  # the debit had been refused: nothing to return
    Outcome.TOMBSTONED: Status.BET_DOES_NOT_EXIST,
    Outcome.ALREADY_SETTLED: Status.BET_ALREADY_SETTLED,  # cancel after the credit; flagged
    Outcome.AMOUNT_MISMATCH: Status.INVALID_PARAMETER,  # flagged
    # Buffalo only sends debits, never bet-and-settle rounds; mapped for completeness.
    Outcome.KEPT: Status.BET_ALREADY_SETTLED,
    Outcome.REVERSED: Status.OK,
}
CANCEL_REPLAY: Mapping[Outcome, Status] = {
    Outcome.CANCELLED: Status.BET_ALREADY_SETTLED,
    Outcome.NOTHING_TO_UNDO: Status.BET_ALREADY_SETTLED,
    Outcome.REVERSED: Status.BET_ALREADY_SETTLED,
    # The debit still never reached us (or arrived late and was refused).
    Outcome.TOMBSTONED: Status.BET_DOES_NOT_EXIST,
}


def status_for(
    result: WalletResult, first: Mapping[Outcome, Status], replay: Mapping[Outcome, Status]
) -> Status:
    """The Buffalo status for a wallet result.

    An outcome missing from the tables is a bug; it answers ``TEMPORARY_ERROR`` so that Buffalo
    retries (or cancels) rather than trusting a success we did not decide.
    """
    if result.replay and result.outcome in replay:
        return replay[result.outcome]
    return first.get(result.outcome, Status.TEMPORARY_ERROR)
