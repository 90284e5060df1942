"""Naga's ``data`` objects validated into typed commands (one per function).

Every reader raises ``providers.fields.BadInput`` naming the field, which the adapter answers
as 400 ``Invalid parameters: <which>``. Fields Naga may add later are ignored; they still count
for the data hash, which covers the whole object.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from providers import fields
from providers.fields import BadInput
from providers.naga import config

AMOUNT_PLACES = Decimal("0.01")  # Naga's amount is Decimal(20,2)
BET_ID_MAX = 64  # Naga's ids are 36-character UUIDs; a little slack, no syntax check (see README)
TOKEN_MAX = 255


@dataclass(frozen=True)
class SessionQuery:
    """authorize, balance: who is this token's player and what do they have."""

    player_token: str
    game_code: str


@dataclass(frozen=True)
class BetCommand:
    """place-bet (``amount`` is the stake) or payout (``amount`` is the win, maybe 0)."""

    bet_id: str
    transaction_id: str
    currency: str
    amount: Decimal
    game_code: str
    player_token: str  # "" when absent (payout may come without one)
    parent_bet_id: str  # "" for a normal spin
    bet_type: str
    is_last_free_spins: bool | None

    def details(self) -> dict[str, Any]:
        """What staff need to follow a free-spin series, kept on the bet."""
        return {
            "parentBetId": self.parent_bet_id or None,
            "betType": self.bet_type or None,
            "isLastFreeSpins": self.is_last_free_spins,
        }


@dataclass(frozen=True)
class CancelCommand:
    bet_id: str
    player_token: str  # "" when absent: Naga sends it only if configured to


@dataclass(frozen=True)
class StatusQuery:
    bet_id: str
    player_id: str  # our account id (Naga's nativeId), "" when absent


def session_query(data: dict[str, Any]) -> SessionQuery:
    _check_codes(data, required=True)
    return SessionQuery(
        player_token=fields.text(data, "playerToken", max_length=TOKEN_MAX),
        game_code=fields.text(data, "gameCode", max_length=64, required=False),
    )


def bet_command(data: dict[str, Any], *, token_required: bool) -> BetCommand:
    _check_codes(data, required=True)
    # Naga's examples send a JSON number; a numeric string is read exactly too, so that a
    # change of their serialiser cannot stop every bet (the hash covers it either way).
    amount = fields.amount(data, "amount", allow_text=True)
    if amount != amount.quantize(AMOUNT_PLACES):
        raise BadInput("amount has more than 2 decimal places")
    return BetCommand(
        bet_id=fields.text(data, "betId", max_length=BET_ID_MAX),
        transaction_id=fields.identifier(data, "transactionId"),
        currency=fields.text(data, "currency", max_length=10),
        amount=amount,
        game_code=fields.text(data, "gameCode", max_length=64),
        player_token=fields.text(
            data, "playerToken", max_length=TOKEN_MAX, required=token_required
        ),
        parent_bet_id=fields.text(data, "parentBetId", max_length=BET_ID_MAX, required=False),
        bet_type=fields.identifier(data, "betType", max_length=32, required=False),
        is_last_free_spins=_optional_boolean(data, "isLastFreeSpins"),
    )


def cancel_command(data: dict[str, Any]) -> CancelCommand:
    _check_codes(data, required=False)
    return CancelCommand(
        bet_id=fields.text(data, "betId", max_length=BET_ID_MAX),
        player_token=fields.text(data, "playerToken", max_length=TOKEN_MAX, required=False),
    )


def status_query(data: dict[str, Any]) -> StatusQuery:
    _check_codes(data, required=False)
    return StatusQuery(
        bet_id=fields.text(data, "betId", max_length=BET_ID_MAX),
        player_id=fields.identifier(data, "playerId", max_length=64, required=False),
    )


def _optional_boolean(data: dict[str, Any], name: str) -> bool | None:
    if data.get(name) is None:
        return None
    return fields.boolean(data, name)


def _check_codes(data: dict[str, Any], *, required: bool) -> None:
    """``groupCode`` and ``brandCode`` must be ours; functions without them may omit them."""
    for name, ours_now in (("groupCode", config.group_code), ("brandCode", config.brand_code)):
        if not required and data.get(name) is None:
            continue
        sent = fields.text(data, name, max_length=16)
        ours = ours_now()  # unset is ours to fix: ImproperlyConfigured, answered as 503
        if sent != ours:
            raise BadInput(f"{name} {sent!r} is not ours")
