"""VP's answer: status codes, how each wallet outcome maps to them, and the JSON we send.

Only a decision of the wallet may produce a final code (0000, 1006, 2003) or 2000. Everything
else (a request we could not read or authenticate, a busy lock, an id reused with other
content, a bug) is ``9999``: VP retries it, and a retry is always safe because nothing moved,
whereas a wrong final answer would make VP's books disagree with ours.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from wallet.money import round_down
from wallet.services import Outcome

BALANCE_PLACES = 2


class VpStatus(StrEnum):
    OK = "0000"
    BET_REFUSED = "1006"  # insufficient balance, player blocked, or the bet was rolled back
    PLAYER_NOT_FOUND = "2000"  # unknown player, or no wallet in that currency
    BET_ESTABLISHED = "2003"  # rollback refused: the betNSettle stands
    TRY_AGAIN = "9999"


_PLAYER_CODES: dict[Outcome, VpStatus] = {
    Outcome.PLAYER_NOT_FOUND: VpStatus.PLAYER_NOT_FOUND,
    Outcome.WRONG_CURRENCY: VpStatus.PLAYER_NOT_FOUND,
}

BALANCE_CODES: dict[Outcome, VpStatus] = {Outcome.OK: VpStatus.OK, **_PLAYER_CODES}

BET_CODES: dict[Outcome, VpStatus] = {
    Outcome.OK: VpStatus.OK,
    Outcome.INSUFFICIENT_FUNDS: VpStatus.BET_REFUSED,
    Outcome.PLAYER_BLOCKED: VpStatus.BET_REFUSED,
    Outcome.BET_CANCELLED: VpStatus.BET_REFUSED,
    # VP has no parameter error: a refused bet is final, and nothing was taken.
    Outcome.BALANCE_LIMIT: VpStatus.BET_REFUSED,
    **_PLAYER_CODES,
}

ROLLBACK_CODES: dict[Outcome, VpStatus] = {
    Outcome.KEPT: VpStatus.BET_ESTABLISHED,
    Outcome.REVERSED: VpStatus.OK,
    Outcome.CANCELLED: VpStatus.OK,
    Outcome.TOMBSTONED: VpStatus.OK,
    Outcome.NOTHING_TO_UNDO: VpStatus.OK,
    **_PLAYER_CODES,
}

_DEFAULT_TEXT: dict[Outcome, str] = {
    Outcome.INSUFFICIENT_FUNDS: "insufficient balance",
    Outcome.PLAYER_BLOCKED: "player is blocked",
    Outcome.BET_CANCELLED: "the bet was rolled back",
    Outcome.PLAYER_NOT_FOUND: "player not found",
    Outcome.WRONG_CURRENCY: "player has no wallet in this currency",
    Outcome.KEPT: "the bet is established and stands",
    Outcome.MISMATCH: "betId was already used with other content",
    Outcome.BUSY: "temporarily unavailable, try again",
}


def status_for(outcome: Outcome, table: dict[Outcome, VpStatus]) -> VpStatus:
    """The code for a wallet outcome; anything the table does not name is a retry."""
    return table.get(outcome, VpStatus.TRY_AGAIN)


def error_text(status: VpStatus, outcome: Outcome, message: str = "") -> str:
    if status == VpStatus.OK:
        return ""
    return message or _DEFAULT_TEXT.get(outcome) or outcome.value.replace("_", " ")


def response_time(now: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2024-12-11T01:23:38.271Z``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def body(status: VpStatus, err_text: str, balance: Decimal | None) -> dict[str, Any]:
    """VP's answer body. The balance is rounded down to cents (never overstated); 0 when no
    wallet is known (the field is always present, VP's parser expects it)."""
    return {
        "status": status.value,
        "errText": err_text,
        "balance": round_down(balance if balance is not None else Decimal(0), BALANCE_PLACES),
        "responseTime": response_time(),
    }
