"""VP contract-test fixtures: payload builders, a sender that encrypts for real, answer checks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from journal.models import JournalEntry
from providers.client_base import SignedRequest
from providers.vp.client import build_request
from tests.helpers import make_player
from tests.providers.conftest import Sent
from wallet.models import Bet, LedgerEntry, Wallet

D = Decimal
RESPONSE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def balance_payload(uid: str = "alice", currency: str = "USD", **extra: Any) -> dict[str, Any]:
    return {"action": "balance", "uid": uid, "currency": currency, "brand": "VP", **extra}


def bet_payload(
    bet_id: str = "bet-1",
    stake: str | Decimal | int = "10",
    win: str | Decimal | int = "25",
    *,
    uid: str = "alice",
    currency: str = "USD",
    action: str = "betNSettle",
    spin_ids: list[Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    game_info: dict[str, Any] = {"featureBuy": 0, "cardType": 1}
    if spin_ids is not None:
        game_info["spinID"] = spin_ids
    stake_amount = D(str(stake))
    return {
        "action": action,
        "uid": uid,
        "roundId": f"round-{bet_id}",
        "transferId": f"transfer-{bet_id}",
        "betId": bet_id,
        "brand": "VP",
        "currency": currency,
        "gameCode": "VP_230036_1",
        "betTime": "2024-12-11T01:23:38.000Z",
        "txTime": "2024-12-11T01:23:38.100Z",
        "gameInfo": json.dumps(game_info),
        "actualBetAmt": stake_amount,
        "validBetAmt": stake_amount,
        "winAmt": D(str(win)),
        "jackpotWin": D(0),
        "jackpotContribute": D("0.01"),
        "betSourceId": "src-1",
        **extra,
    }


def rollback_payload(bet_id: str = "bet-1", *, uid: str = "alice", **extra: Any) -> dict[str, Any]:
    return {
        "action": "rollback",
        "uid": uid,
        "roundId": f"round-{bet_id}",
        "transferId": f"transfer-{bet_id}",
        "betId": bet_id,
        "brand": "VP",
        "gameCode": "VP_230036_1",
        **extra,
    }


def assert_answer(sent: Sent, status: str, balance: str | Decimal) -> None:
    """VP's answer shape: HTTP 200, the status, errText empty only on success, the balance as a
    JSON number with 2 decimals, responseTime in ISO-8601 UTC with milliseconds."""
    assert sent.status == 200, sent
    body = sent.json
    assert set(body) == {"status", "errText", "balance", "responseTime"}, body
    assert body["status"] == status, body
    assert (body["errText"] == "") == (status == "0000"), body
    assert isinstance(body["balance"], Decimal), body  # a JSON number, not a string
    assert body["balance"] == D(str(balance)), body
    assert body["balance"].as_tuple().exponent == -2, sent.raw
    assert RESPONSE_TIME.match(body["responseTime"]), body


def ledger_rows(bet_id: str) -> list[tuple[str, Decimal]]:
    return list(
        LedgerEntry.objects.filter(bet__provider="vp", bet__bet_key=bet_id)
        .order_by("id")
        .values_list("kind", "amount")
    )


@dataclass
class MoneySnapshot:
    ledger_rows: int
    bets: int
    balances: dict[int, Decimal]

    @classmethod
    def take(cls) -> MoneySnapshot:
        return cls(
            ledger_rows=LedgerEntry.objects.count(),
            bets=Bet.objects.count(),
            balances=dict(Wallet.objects.values_list("id", "balance")),
        )


@pytest.fixture
def no_money_moves() -> Iterator[None]:
    """Assert that the test moved no money and created no bet (not even a refused one)."""
    before = MoneySnapshot.take()
    yield
    assert MoneySnapshot.take() == before


@pytest.fixture
def players() -> None:
    make_player("alice", "USD", "100")
    make_player("bob", "USD", "50")
    make_player("chen", "CNY", "500")


@pytest.fixture
def vp(send: Callable[..., Sent]) -> Callable[..., Sent]:
    """Encrypt and sign a payload exactly as VP would, and POST it to /providers/vp/."""

    def _vp(payload: dict[str, Any], **headers: str) -> Sent:
        return send(build_request(payload), **headers)

    return _vp


@pytest.fixture
def send_raw(send: Callable[..., Sent]) -> Callable[..., Sent]:
    """POST an arbitrary body (no signature headers unless given)."""

    def _raw(body: bytes, headers: dict[str, str] | None = None) -> Sent:
        return send(SignedRequest(path="/providers/vp/", body=body, headers=headers or {}))

    return _raw


def journal_row() -> JournalEntry:
    entry = JournalEntry.objects.filter(provider="vp").order_by("-id").first()
    assert entry is not None, "no VP journal row"
    return entry
