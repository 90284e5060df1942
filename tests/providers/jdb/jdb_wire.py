"""Payload builders for JDB's actions (as JDB sends them) and journal assertions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from journal.models import JournalEntry

TS = 1_700_000_000_000
CNY_PLAYER = "chen"  # a CNY wallet, addressed by JDB's code RB
MYR_PLAYER = "dana"  # a MYR wallet, addressed by JDB's code RM
D = Decimal


def balance_query(uid: str = CNY_PLAYER, currency: str = "RB", **extra: Any) -> dict[str, Any]:
    return {
        "action": 6,
        "ts": TS,
        "uid": uid,
        "currency": currency,
        "gType": 0,
        "mType": 8001,
        **extra,
    }


def bet_n_settle(
    transfer_id: int,
    bet: str,
    win: str,
    *,
    uid: str = CNY_PLAYER,
    currency: str = "RB",
    **extra: Any,
) -> dict[str, Any]:
    """Action 8 with every field JDB's integration code sends (``bet`` is negative)."""
    payload: dict[str, Any] = {
        "action": 8,
        "ts": TS,
        "transferId": transfer_id,
        "uid": uid,
        "currency": currency,
        "bet": D(bet),
        "win": D(win),
        "netWin": D(win) + D(bet),
        "historyId": f"H{transfer_id}",
        "gameSeqNo": transfer_id * 10,
        "reportDate": "01-01-2026",
        "gameDate": "01-01-2026 10:00:00",
        "lastModifyTime": "01-01-2026 10:00:01",
        "denom": D("0.01"),
        "gType": 0,
        "mType": 8001,
        "jackpotWin": 0,
        "jackpotContribute": D("0.004"),
        "hasFreegame": False,
        "systemTakeWin": 0,
        "sessionNo": f"S{transfer_id}",
    }
    payload.update(extra)
    return payload


def cancel_bet_n_settle(
    transfer_id: int, *, uid: str = CNY_PLAYER, currency: str = "RB", **extra: Any
) -> dict[str, Any]:
    """Action 4, as in JDB's request example."""
    return {
        "action": 4,
        "ts": TS,
        "transferId": transfer_id,
        "historyId": f"H{transfer_id}",
        "uid": uid,
        "currency": currency,
        "gType": 0,
        "mType": 8001,
        **extra,
    }


def debit(
    transfer_id: int,
    amount: str,
    *,
    action: int = 9,
    uid: str = CNY_PLAYER,
    currency: str = "RB",
    **extra: Any,
) -> dict[str, Any]:
    """Action 9 (Bet) or 13 (Withdraw)."""
    return {
        "action": action,
        "ts": TS,
        "transferId": transfer_id,
        "uid": uid,
        "currency": currency,
        "amount": D(amount),
        "gameRoundSeqNo": transfer_id * 10,
        "gType": 7 if action == 13 else 0,
        "mType": 7001,
        **extra,
    }


def credit(
    transfer_id: int,
    amount: str,
    refs: list[int],
    *,
    action: int = 10,
    uid: str = CNY_PLAYER,
    currency: str = "RB",
    **extra: Any,
) -> dict[str, Any]:
    """Action 10 (Settle) or 14 (Deposit)."""
    return {
        "action": action,
        "ts": TS,
        "transferId": transfer_id,
        "uid": uid,
        "currency": currency,
        "amount": D(amount),
        "refTransferIds": refs,
        "roundClosed": True,
        "gType": 7 if action == 14 else 0,
        "mType": 7001,
        **extra,
    }


def cancel_debits(
    transfer_id: int,
    amount: str,
    refs: list[int],
    *,
    uid: str = CNY_PLAYER,
    currency: str = "RB",
    **extra: Any,
) -> dict[str, Any]:
    """Action 11 (Cancel Bet)."""
    return {
        "action": 11,
        "ts": TS,
        "transferId": transfer_id,
        "uid": uid,
        "currency": currency,
        "amount": D(amount),
        "refTransferIds": refs,
        "gType": 0,
        "mType": 7001,
        **extra,
    }


def cancel_withdraw(
    transfer_id: int, amount: str, ref: int, *, uid: str = CNY_PLAYER, **extra: Any
) -> dict[str, Any]:
    """Action 15 (Cancel Withdraw): one ``refTransferId``."""
    return {
        "action": 15,
        "ts": TS,
        "transferId": transfer_id,
        "uid": uid,
        "currency": "RB",
        "amount": D(amount),
        "refTransferId": ref,
        "gType": 7,
        "mType": 7001,
        **extra,
    }


def assert_journal(
    entry: JournalEntry,
    *,
    action: str,
    status: str,
    outcome: str,
    bet_key: str = "",
    account_id: str = CNY_PLAYER,
    is_cancel: bool = False,
) -> None:
    """The journal row records what we understood and what we answered."""
    assert entry.provider == "jdb"
    assert entry.direction == "in"
    assert entry.action == action, entry.action
    assert entry.outcome == outcome, (entry.outcome, entry.error)
    assert entry.bet_key == bet_key
    assert entry.account_id == account_id
    assert entry.is_cancel is is_cancel
    assert entry.signature_form == "aes-128-cbc"
    assert entry.http_status == 200
    assert entry.answer["status"] == status
    assert isinstance(entry.payload, dict)
    assert entry.path.startswith("/providers/jdb")
