"""JDB status codes and the mapping from the wallet's typed outcomes to them (jdb.md).

Action 4 has its own table because JDB reads every Action 4 answer other than ``6101`` and
``9017`` as "cancel succeeded" and voids the round on its side. The rule behind that table: the
answer tells JDB the truth about the round on our side after the call.

- the round's money stands here (kept, or paid and not undone) -> ``6101``;
- the round has no money effect here (reversed, tombstoned, refused, unknown player) -> a
  success-like code;
- we could not decide (lock wait, database error, a bug, a payload we could not read) -> ``9017``.
"""

from __future__ import annotations

from enum import StrEnum

from wallet.models import BetState
from wallet.services import Outcome, WalletResult


class Status(StrEnum):
    SUCCESS = "0000"
    INSUFFICIENT_BALANCE = "6006"
    CANNOT_CANCEL = "6101"  # Action 4 only: the BetNSettle stands
    USER_NOT_FOUND = "7501"
    PARAMETER_ERROR = "8000"
    NOT_AUTHORISED = "9001"
    DUPLICATE_TRANSFER = "9011"
    DATA_NOT_FOUND = "9015"
    TRY_AGAIN = "9017"  # Action 4 only: JDB resends every minute for an hour
    FAILED = "9999"


_COMMON = {
    Outcome.PLAYER_NOT_FOUND: Status.USER_NOT_FOUND,
    Outcome.WRONG_CURRENCY: Status.PARAMETER_ERROR,
    Outcome.MISMATCH: Status.DUPLICATE_TRANSFER,
    Outcome.BUSY: Status.FAILED,
    Outcome.BALANCE_LIMIT: Status.PARAMETER_ERROR,
}

BALANCE = {**_COMMON, Outcome.OK: Status.SUCCESS}

#: Actions 8, 9 and 13: a stake is taken (and, for 8, the win paid).
OPENING = {
    **_COMMON,
    Outcome.OK: Status.SUCCESS,
    Outcome.INSUFFICIENT_FUNDS: Status.INSUFFICIENT_BALANCE,
    # A blocked player's bet is refused; jdb.md has no code for it, 9999 is "failed".
    Outcome.PLAYER_BLOCKED: Status.FAILED,
    # The bet arrived after its cancel (a tombstone): refused, no money (jdb.md).
    Outcome.BET_CANCELLED: Status.DATA_NOT_FOUND,
}

#: Actions 10 and 14.
SETTLING = {
    **_COMMON,
    Outcome.OK: Status.SUCCESS,
    Outcome.BET_NOT_FOUND: Status.DATA_NOT_FOUND,
    Outcome.BET_CANCELLED: Status.DATA_NOT_FOUND,
    # Another settle id for a closed round: refused and flagged; JDB retries while staff look.
    Outcome.ALREADY_SETTLED: Status.FAILED,
}

#: Actions 11 and 15.
CANCELLING_DEBITS = {
    **_COMMON,
    Outcome.CANCELLED: Status.SUCCESS,
    Outcome.TOMBSTONED: Status.SUCCESS,
    Outcome.NOTHING_TO_UNDO: Status.SUCCESS,
    Outcome.REVERSED: Status.SUCCESS,
    # A ref already paid by Action 10/14: no money, flagged; JDB retries for 12 h (jdb.md).
    Outcome.ALREADY_SETTLED: Status.FAILED,
    Outcome.KEPT: Status.FAILED,
    Outcome.AMOUNT_MISMATCH: Status.PARAMETER_ERROR,
}

#: Action 4, except MISMATCH / WRONG_CURRENCY (see ``cancel_bet_n_settle_status``).
_CANCELLING_ROUND = {
    Outcome.KEPT: Status.CANNOT_CANCEL,
    Outcome.ALREADY_SETTLED: Status.CANNOT_CANCEL,
    Outcome.REVERSED: Status.SUCCESS,
    Outcome.CANCELLED: Status.SUCCESS,
    Outcome.TOMBSTONED: Status.SUCCESS,
    Outcome.NOTHING_TO_UNDO: Status.SUCCESS,
    # No such player: no round of theirs can ever have been applied here.
    Outcome.PLAYER_NOT_FOUND: Status.USER_NOT_FOUND,
    Outcome.BUSY: Status.TRY_AGAIN,
}

_MONEY_STANDS = frozenset({BetState.OPEN, BetState.SETTLED})


def status_for(result: WalletResult, table: dict[Outcome, Status]) -> Status:
    """The code for an outcome; an outcome the table does not name is a plain failure."""
    return table.get(result.outcome, Status.FAILED)


def cancel_bet_n_settle_status(result: WalletResult) -> Status:
    """Action 4's code: never one JDB reads as "cancelled" unless nothing of the round stands."""
    if result.outcome in (Outcome.MISMATCH, Outcome.WRONG_CURRENCY):
        # The transferId is a round of another player or currency. Whatever stands here stays
        # (it was flagged); telling JDB "cancelled" would make it void a round we kept.
        if result.bet is not None and result.bet.state in _MONEY_STANDS:
            return Status.CANNOT_CANCEL
        return _COMMON[result.outcome]
    return _CANCELLING_ROUND.get(result.outcome, Status.TRY_AGAIN)
