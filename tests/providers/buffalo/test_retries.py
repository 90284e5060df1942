"""Buffalo retries: repeated cancels, cancels before their debit, and "try again" answers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from journal.models import JournalEntry
from providers.buffalo import methods
from tests.helpers import balance, bet, ledger_kinds
from tests.providers.buffalo.conftest import Gambler, answered, journaled, ledger_count
from tests.providers.conftest import Sent
from wallet.models import Bet, BetState
from wallet.services import Outcome, WalletResult

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal
Call = Callable[..., Sent]


def test_the_same_cancel_fifty_times_refunds_once(buffalo: Call, alice: Gambler) -> None:
    buffalo("debit", alice.tx("ref-1", "12.345678"))
    statuses = [buffalo("cancel", alice.tx("ref-1", "12.345678")).json for _ in range(50)]
    assert statuses[0]["status"] == "OK"
    assert {s["status"] for s in statuses[1:]} == {"BET_ALREADY_SETTLED"}
    assert {s["balance"] for s in statuses} == {D("1000")}
    assert ledger_kinds("ref-1", "buffalo") == [
        ("stake", D("-12.345678")),
        ("refund", D("12.345678")),
    ]
    assert balance("alice") == D("1000")
    cancels = JournalEntry.objects.filter(provider="buffalo", bet_key="ref-1", is_cancel=True)
    assert cancels.count() == 50
    assert cancels.filter(outcome="replay:cancelled").count() == 49


def test_a_cancel_before_its_debit_then_the_debit_and_their_retries(
    buffalo: Call, alice: Gambler
) -> None:
    cancel, debit = alice.tx("ref-1", "10"), alice.tx("ref-1", "10")
    answered(buffalo("cancel", cancel), cancel, "BET_DOES_NOT_EXIST", "1000")
    for _ in range(3):
        answered(buffalo("debit", debit), debit, "BET_ALREADY_SETTLED", "1000")
        answered(buffalo("cancel", cancel), cancel, "BET_DOES_NOT_EXIST", "1000")
    credit = alice.tx("ref-1", "500", tx_id="win-1")
    answered(buffalo("credit", credit), credit, "BET_ALREADY_SETTLED", "1000")
    assert bet("ref-1", "buffalo").state == BetState.TOMBSTONE
    assert ledger_kinds("ref-1", "buffalo") == [] and ledger_count() == 1
    assert balance("alice") == D("1000")


def _busy(**_: Any) -> WalletResult:
    return WalletResult(Outcome.BUSY, message="canceling statement due to lock timeout")


@pytest.mark.parametrize(
    ("method", "ref", "after_retry"),
    [("debit", "ref-2", "980"), ("credit", "ref-1", "1000"), ("cancel", "ref-1", "1000")],
)
def test_busy_wallet_answers_temporary_error_and_the_retry_goes_through(
    buffalo: Call,
    alice: Gambler,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    ref: str,
    after_retry: str,
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    for name in ("bet_open", "bet_settle", "bet_cancel"):
        monkeypatch.setattr(methods, name, _busy)
    payload = alice.tx(ref, "10", tx_id=f"t-{method}")
    answered(buffalo(method, payload), payload, "TEMPORARY_ERROR", "990")
    entry = journaled(payload, action=method, outcome="busy", bet_key=ref)
    assert "lock timeout" in entry.error
    assert balance("alice") == D("990") and ledger_count() == 2
    monkeypatch.undo()
    retry = {**payload, "uuid": f"retry-{method}"}
    answered(buffalo(method, retry), retry, "OK", after_retry)


@pytest.mark.parametrize("method", ["debit", "credit", "cancel", "balance", "check"])
def test_an_unexpected_failure_answers_temporary_error(
    buffalo: Call, alice: Gambler, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(methods, "session_find", explode)
    payload = alice.tx("ref-1", "10") if method in ("debit", "credit", "cancel") else alice.base()
    sent = buffalo(method, payload)
    answered(sent, payload, "TEMPORARY_ERROR", "1000")
    entry = JournalEntry.objects.get(payload__uuid=payload["uuid"])
    assert entry.outcome == "error" and "database went away" in entry.error
    assert entry.is_cancel == (method == "cancel")
    assert not Bet.objects.exists() and ledger_count() == 1


def test_unexpected_failure_while_the_database_is_down_still_answers(
    buffalo: Call, alice: Gambler, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("no database")

    monkeypatch.setattr(methods, "session_find", explode)
    monkeypatch.setattr("providers.buffalo.adapter.player_balance", explode)
    payload = alice.tx("ref-1", "10")
    assert buffalo("cancel", payload).json == {"status": "TEMPORARY_ERROR", "uuid": payload["uuid"]}


def test_an_outcome_missing_from_the_tables_answers_temporary_error() -> None:
    from providers.buffalo import codes

    strange = WalletResult(Outcome.KEPT)  # a bet-and-settle outcome Buffalo never causes
    assert codes.status_for(strange, codes.DEBIT, codes.DEBIT_REPLAY) == "TEMPORARY_ERROR"
    assert codes.status_for(strange, codes.CREDIT, codes.CREDIT_REPLAY) == "TEMPORARY_ERROR"
