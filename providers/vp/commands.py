"""VP's decrypted callbacks, validated into typed commands (vp.md, "Callbacks").

Required are the fields we need to move money correctly and to find the bet again: the player,
the currency, ``betId``, the amounts, and for a bet its round, game and ``gameInfo``. The other
fields VP lists are informational: when present they must have a sensible type, and they are
kept with the bet, but a missing one does not refuse the call (``transferId`` is being removed
by VP, and a rollback VP cannot get through is retried for four hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from providers import fields
from providers.fields import BadInput
from providers.wire import WireError, loads_object, to_jsonable

ACCOUNT_ID_MAX = 64  # Player.account_id
CURRENCY_MAX = 10  # Wallet.currency
KEY_MAX = 128  # Bet.bet_key, Bet.round_id
GAME_CODE_MAX = 64  # Bet.game_code
MAX_SPIN_IDS = 100


@dataclass(frozen=True, slots=True)
class BalanceQuery:
    account_id: str
    currency: str


@dataclass(frozen=True, slots=True)
class BetAndSettle:
    """``betNSettle`` or ``retryBet``: take ``stake`` and pay ``win`` in one movement."""

    action: str
    account_id: str
    currency: str
    bet_id: str
    round_id: str
    game_code: str
    stake: Decimal
    win: Decimal
    spin_ids: tuple[str, ...]
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rollback:
    account_id: str
    bet_id: str
    round_id: str = ""  # checked against the bet's round: another one is other content


Command = BalanceQuery | BetAndSettle | Rollback


def parse_balance(payload: dict[str, Any]) -> BalanceQuery:
    _optional_text(payload, "brand")
    return BalanceQuery(
        account_id=fields.text(payload, "uid", max_length=ACCOUNT_ID_MAX),
        currency=fields.text(payload, "currency", max_length=CURRENCY_MAX),
    )


def parse_bet_and_settle(payload: dict[str, Any], action: str) -> BetAndSettle:
    account_id = fields.text(payload, "uid", max_length=ACCOUNT_ID_MAX)
    currency = fields.text(payload, "currency", max_length=CURRENCY_MAX)
    bet_id = fields.identifier(payload, "betId", max_length=KEY_MAX)
    round_id = fields.identifier(payload, "roundId", max_length=KEY_MAX)
    game_code = fields.text(payload, "gameCode", max_length=GAME_CODE_MAX)
    stake = fields.amount(payload, "actualBetAmt")
    win = fields.amount(payload, "winAmt")
    game_info = parse_game_info(payload)
    spin_ids = parse_spin_ids(game_info)
    details: dict[str, Any] = {
        "action": action,
        # The operator-card feature reads exactly this key to know which cards are in use.
        "spin_ids": list(spin_ids),
        "game_info": to_jsonable(game_info),
    }
    for name, key in (
        ("validBetAmt", "valid_bet_amt"),
        ("jackpotWin", "jackpot_win"),
        ("jackpotContribute", "jackpot_contribute"),
    ):
        if payload.get(name) is not None:
            details[key] = format(fields.amount(payload, name), "f")
    for name, key in (
        ("transferId", "transfer_id"),
        ("betSourceId", "bet_source_id"),
        ("betType", "bet_type"),
        ("betTime", "bet_time"),
        ("txTime", "tx_time"),
    ):
        value = fields.identifier(payload, name, max_length=KEY_MAX, required=False)
        if value:
            details[key] = value
    brand = _optional_text(payload, "brand")
    if brand:
        details["brand"] = brand
    return BetAndSettle(
        action=action,
        account_id=account_id,
        currency=currency,
        bet_id=bet_id,
        round_id=round_id,
        game_code=game_code,
        stake=stake,
        win=win,
        spin_ids=spin_ids,
        details=details,
    )


def parse_rollback(payload: dict[str, Any]) -> Rollback:
    # betId is required even though VP's older example only shows transferId: falling back to
    # transferId could tombstone a key that is not the bet's and answer "cancelled" for a bet
    # that stands. Refused (9999), VP retries, and no money has moved.
    account_id = fields.text(payload, "uid", max_length=ACCOUNT_ID_MAX)
    bet_id = fields.identifier(payload, "betId", max_length=KEY_MAX)
    round_id = fields.identifier(payload, "roundId", max_length=KEY_MAX, required=False)
    fields.identifier(payload, "transferId", max_length=KEY_MAX, required=False)
    _optional_text(payload, "gameCode", max_length=GAME_CODE_MAX)
    _optional_text(payload, "brand")
    return Rollback(account_id=account_id, bet_id=bet_id, round_id=round_id)


def parse_game_info(payload: dict[str, Any]) -> dict[str, Any]:
    """``gameInfo`` is a JSON object sent as a string (vp.md)."""
    raw = payload.get("gameInfo")
    if raw is None:
        raise BadInput("gameInfo is missing")
    if not isinstance(raw, str):
        raise BadInput("gameInfo must be a string holding a JSON object")
    try:
        return loads_object(raw)
    except WireError as exc:
        raise BadInput(f"gameInfo is not a JSON object: {exc}") from exc


def parse_spin_ids(game_info: dict[str, Any]) -> tuple[str, ...]:
    """The operator cards a bet used: ``gameInfo.spinID``, a list of ids (absent: none).

    A single id sent as a plain string is taken as a one-item list: refusing a card spin over
    that would leave VP retrying it forever.
    """
    value = game_info.get("spinID")
    if value is None:
        return ()
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise BadInput("gameInfo.spinID must be a list of ids")
    if len(value) > MAX_SPIN_IDS:
        raise BadInput(f"gameInfo.spinID has more than {MAX_SPIN_IDS} items")
    return tuple(
        fields.identifier({"gameInfo.spinID": item}, "gameInfo.spinID", max_length=KEY_MAX)
        for item in value
    )


def _optional_text(payload: dict[str, Any], name: str, *, max_length: int = KEY_MAX) -> str:
    return fields.text(payload, name, max_length=max_length, required=False)
