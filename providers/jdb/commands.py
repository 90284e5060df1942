"""JDB's actions as typed commands: each payload is validated into one frozen dataclass.

Every missing or mistyped field raises ``providers.fields.BadInput`` naming the field; an action
we do not serve raises ``UnknownAction``. Amounts are exact ``Decimal`` (never float). Fields we
do not use (``ts``, ``gType``, jackpot figures ...) stay in the journal and are otherwise ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any

from providers import fields
from providers.fields import BadInput
from providers.jdb.config import UnknownCurrency, our_currency
from providers.wire import to_jsonable


class JdbAction(IntEnum):
    GET_BALANCE = 6
    BET_N_SETTLE = 8
    CANCEL_BET_N_SETTLE = 4
    BET = 9
    SETTLE = 10
    CANCEL_BET = 11
    WITHDRAW = 13
    DEPOSIT = 14
    CANCEL_WITHDRAW = 15

    @property
    def label(self) -> str:
        """How the journal names the action: its number first, so staff can search either."""
        return f"{self.value} {_LABELS[self]}"


_LABELS = {
    JdbAction.GET_BALANCE: "Get Balance",
    JdbAction.BET_N_SETTLE: "BetNSettle",
    JdbAction.CANCEL_BET_N_SETTLE: "Cancel BetNSettle",
    JdbAction.BET: "Bet",
    JdbAction.SETTLE: "Settle",
    JdbAction.CANCEL_BET: "Cancel Bet",
    JdbAction.WITHDRAW: "Withdraw",
    JdbAction.DEPOSIT: "Deposit",
    JdbAction.CANCEL_WITHDRAW: "Cancel Withdraw",
}

#: Actions JDB reads as cancels (journaled with ``is_cancel``).
CANCEL_ACTIONS = frozenset(
    {JdbAction.CANCEL_BET_N_SETTLE, JdbAction.CANCEL_BET, JdbAction.CANCEL_WITHDRAW}
)
#: Actions whose answer carries no balance (jdb.md).
NO_BALANCE_ACTIONS = frozenset({JdbAction.WITHDRAW, JdbAction.DEPOSIT, JdbAction.CANCEL_WITHDRAW})

#: Action 8 fields kept on the bet for staff (the journal keeps the whole payload).
_BET_N_SETTLE_DETAILS = (
    "historyId",
    "gameSeqNo",
    "gType",
    "mType",
    "reportDate",
    "gameDate",
    "denom",
    "jackpotWin",
    "jackpotContribute",
    "hasFreegame",
    "systemTakeWin",
)


class UnknownAction(ValueError):
    """The decrypted ``action`` is a whole number we do not serve."""


@dataclass(frozen=True)
class PlayerRef:
    uid: str
    currency: str  # ours (ISO), after JDB_CURRENCY_MAP


@dataclass(frozen=True)
class GetBalance:
    """Action 6."""

    player: PlayerRef


@dataclass(frozen=True)
class BetNSettle:
    """Action 8: ``stake`` is ``-bet`` (JDB sends the bet negative), ``win`` is paid with it."""

    player: PlayerRef
    transfer_id: str
    stake: Decimal
    win: Decimal
    required_balance: Decimal | None  # ``mb`` when present
    round_id: str
    game_code: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CancelBetNSettle:
    """Action 4: undo the Action 8 with this ``transferId`` (no amount: we reverse what we hold)."""

    player: PlayerRef
    transfer_id: str


@dataclass(frozen=True)
class Debit:
    """Action 9 (Bet) or 13 (Withdraw, fish games): take ``amount``, open the bet."""

    action: JdbAction
    player: PlayerRef
    transfer_id: str
    amount: Decimal
    round_id: str
    game_code: str


@dataclass(frozen=True)
class Credit:
    """Action 10 (Settle) or 14 (Deposit): pay ``amount`` for the bets in ``ref_transfer_ids``."""

    action: JdbAction
    player: PlayerRef
    transfer_id: str
    amount: Decimal
    ref_transfer_ids: tuple[str, ...]
    round_closed: bool


@dataclass(frozen=True)
class CancelDebits:
    """Action 11 (Cancel Bet) or 15 (Cancel Withdraw): refund the referenced stakes.

    ``amount`` must equal the stakes we stored; a mismatch moves nothing.
    """

    action: JdbAction
    player: PlayerRef
    transfer_id: str
    amount: Decimal
    ref_transfer_ids: tuple[str, ...]


Command = GetBalance | BetNSettle | CancelBetNSettle | Debit | Credit | CancelDebits


def action_of(payload: dict[str, Any]) -> JdbAction:
    number = fields.integer(payload, "action")
    try:
        return JdbAction(number)
    except ValueError as exc:
        raise UnknownAction(f"action {number} is not served") from exc


def parse_command(payload: dict[str, Any]) -> Command:
    """Validate a decrypted payload into its command (raises ``BadInput``/``UnknownAction``)."""
    action = action_of(payload)
    return _PARSERS[action](action, payload)


def _player(payload: dict[str, Any]) -> PlayerRef:
    uid = fields.text(payload, "uid", max_length=64)
    code = fields.text(payload, "currency", max_length=10)
    try:
        return PlayerRef(uid=uid, currency=our_currency(code))
    except UnknownCurrency as exc:
        raise BadInput(str(exc)) from exc


def _transfer_id(payload: dict[str, Any], name: str = "transferId") -> str:
    return fields.identifier(payload, name, max_length=64)


def _optional_id(payload: dict[str, Any], name: str) -> str:
    return fields.identifier(payload, name, max_length=100, required=False)


def _get_balance(action: JdbAction, payload: dict[str, Any]) -> GetBalance:
    return GetBalance(player=_player(payload))


def _bet_n_settle(action: JdbAction, payload: dict[str, Any]) -> BetNSettle:
    bet = fields.amount(payload, "bet", allow_negative=True)
    if bet > 0:
        raise BadInput("bet must be zero or negative (JDB sends the stake as a negative bet)")
    win = fields.amount(payload, "win")
    if payload.get("netWin") is not None:
        net_win = fields.amount(payload, "netWin", allow_negative=True)
        if net_win != win + bet:
            raise BadInput(f"netWin {net_win} is not win + bet ({win + bet})")
    required = fields.amount(payload, "mb") if payload.get("mb") is not None else None
    history_id = _optional_id(payload, "historyId")
    details = {k: payload[k] for k in _BET_N_SETTLE_DETAILS if payload.get(k) is not None}
    return BetNSettle(
        player=_player(payload),
        transfer_id=_transfer_id(payload),
        stake=-bet + 0,  # "+ 0" turns -0 into 0
        win=win,
        required_balance=required,
        round_id=history_id or _optional_id(payload, "gameSeqNo"),
        game_code=_optional_id(payload, "mType"),
        details=to_jsonable(details),
    )


def _cancel_bet_n_settle(action: JdbAction, payload: dict[str, Any]) -> CancelBetNSettle:
    return CancelBetNSettle(player=_player(payload), transfer_id=_transfer_id(payload))


def _debit(action: JdbAction, payload: dict[str, Any]) -> Debit:
    return Debit(
        action=action,
        player=_player(payload),
        transfer_id=_transfer_id(payload),
        amount=fields.amount(payload, "amount"),
        round_id=_optional_id(payload, "gameRoundSeqNo") or _optional_id(payload, "historyId"),
        game_code=_optional_id(payload, "mType"),
    )


def _credit(action: JdbAction, payload: dict[str, Any]) -> Credit:
    return Credit(
        action=action,
        player=_player(payload),
        transfer_id=_transfer_id(payload),
        amount=fields.amount(payload, "amount"),
        ref_transfer_ids=tuple(fields.identifier_list(payload, "refTransferIds")),
        round_closed=fields.boolean(payload, "roundClosed", default=True),
    )


def _cancel_debits(action: JdbAction, payload: dict[str, Any]) -> CancelDebits:
    refs: tuple[str, ...]
    if action == JdbAction.CANCEL_WITHDRAW:
        refs = (_transfer_id(payload, "refTransferId"),)
    else:
        refs = tuple(fields.identifier_list(payload, "refTransferIds"))
    return CancelDebits(
        action=action,
        player=_player(payload),
        transfer_id=_transfer_id(payload),
        amount=fields.amount(payload, "amount"),
        ref_transfer_ids=refs,
    )


_PARSERS: dict[JdbAction, Callable[[JdbAction, dict[str, Any]], Command]] = {
    JdbAction.GET_BALANCE: _get_balance,
    JdbAction.BET_N_SETTLE: _bet_n_settle,
    JdbAction.CANCEL_BET_N_SETTLE: _cancel_bet_n_settle,
    JdbAction.BET: _debit,
    JdbAction.WITHDRAW: _debit,
    JdbAction.SETTLE: _credit,
    JdbAction.DEPOSIT: _credit,
    JdbAction.CANCEL_BET: _cancel_debits,
    JdbAction.CANCEL_WITHDRAW: _cancel_debits,
}
