"""One commit per provider request: the journal row joins the money transaction, and whatever
fails before the commit takes the movement back with it (``wallet.services.hold_commit``).

These run with real transactions (``transaction=True``), where the endpoint holds the wallet's
commit; the rest of the suite runs inside a test transaction, where it cannot.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from journal.models import JournalEntry
from providers.jdb.client import build_request
from tests.helpers import (
    ON_POSTGRES,
    balance,
    bet,
    ledger_kinds,
    make_player,
    terminate_backend,
)
from wallet.db.held_commit import HeldCommit
from wallet.models import BetState
from wallet.services import bet_open

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def cancel(transfer: str = "c1", ref: str = "b1", amount: str = "10") -> dict[str, Any]:
    """JDB Action 11 for bet ``ref`` of alice (USD passes through JDB's currency map)."""
    return {
        "action": 11,
        "ts": 1_700_000_000_000,
        "transferId": transfer,
        "uid": "alice",
        "currency": "USD",
        "amount": D(amount),
        "refTransferIds": [ref],
        "gType": 0,
        "mType": 7001,
    }


def post(payload: dict[str, Any]) -> dict[str, Any]:
    signed = build_request(payload)
    response = Client().post(signed.path, signed.body, content_type=signed.content_type)
    assert response.status_code == 200
    return dict(response.json())


@pytest.fixture
def open_bet() -> None:
    make_player("alice", "USD", "100")
    result = bet_open(
        provider="jdb",
        bet_key="b1",
        tx_id="b1",
        account_id="alice",
        currency="USD",
        amount=D("10"),
    )
    assert result.balance == D("90")


def assert_nothing_moved() -> None:
    assert balance("alice") == D("90")
    assert bet("b1", "jdb").state == BetState.OPEN
    assert ledger_kinds("b1", "jdb") == [("stake", D("-10"))]


def only_journal_row() -> JournalEntry:
    entry = JournalEntry.objects.get()
    assert entry.bet_key == "b1" and entry.is_cancel
    return entry


@pytest.mark.usefixtures("open_bet")
def test_the_refund_and_its_journal_row_commit_together() -> None:
    answer = post(cancel())
    assert answer == {"status": "0000", "balance": "100.00", "err_text": ""}
    assert balance("alice") == D("100") and bet("b1", "jdb").state == BetState.CANCELLED
    assert ledger_kinds("b1", "jdb") == [("stake", D("-10")), ("refund", D("10"))]
    entry = only_journal_row()
    assert entry.outcome == "cancelled" and entry.answer == answer and entry.http_status == 200
    assert not connection.in_atomic_block  # nothing left open after the request


@pytest.mark.usefixtures("open_bet")
def test_a_journal_insert_that_fails_takes_the_refund_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database refuses the journal row (sent with the COMMIT): nothing is committed."""
    from providers import journal

    real = journal.inbound_insert
    calls: list[str] = []

    def refused_by_the_database(*args: Any, **kwargs: Any) -> tuple[str, list[Any]]:
        sql, params = real(*args, **kwargs)
        calls.append("insert")
        if len(calls) == 1:
            # The row without its provider: the NOT NULL constraint refuses it.
            params = [None if value == "jdb" else value for value in params]
        return sql, params

    monkeypatch.setattr(journal, "inbound_insert", refused_by_the_database)
    answer = post(cancel())
    # The refund was rolled back, so JDB must not read success: 9999, and it resends.
    assert answer["status"] == "9999" and "internal error" in answer["err_text"]
    assert_nothing_moved()
    entry = only_journal_row()  # written again, in a transaction of its own
    assert entry.outcome == "error" and "not committed: IntegrityError" in entry.error
    assert entry.answer == answer
    assert not connection.in_atomic_block
    assert post(cancel())["status"] == "0000"  # JDB's resend goes through
    assert balance("alice") == D("100")


@pytest.mark.usefixtures("open_bet")
def test_a_journal_row_that_cannot_be_built_takes_the_refund_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from providers import journal

    def cannot_build(*args: Any, **kwargs: Any) -> tuple[str, list[Any]]:
        raise RuntimeError("journal row could not be built")

    monkeypatch.setattr(journal, "inbound_insert", cannot_build)
    answer = post(cancel())
    assert answer["status"] == "9999"
    assert_nothing_moved()  # a movement is never committed without its journal row
    assert not JournalEntry.objects.exists()  # nor could the refusal's (logged instead)


@pytest.mark.usefixtures("open_bet")
def test_a_commit_that_fails_answers_try_again_and_moves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def commit_fails(self: HeldCommit, last_statement: Any = None) -> None:
        self.rollback()
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(HeldCommit, "commit", commit_fails)
    answer = post(cancel())
    assert answer["status"] == "9999"
    assert_nothing_moved()
    assert "OperationalError" in only_journal_row().error


@pytest.mark.usefixtures("open_bet")
def test_a_failure_after_the_wallet_decided_rolls_the_decision_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def encoding_fails(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("cannot encode the answer")

    monkeypatch.setattr("providers.jdb.adapter._answer", encoding_fails)
    answer = post(cancel())
    assert answer["status"] == "9999"
    assert_nothing_moved()
    assert bet("b1", "jdb").cancel_outcome == ""  # undecided: the resend decides
    assert only_journal_row().outcome == "error"


@pytest.mark.skipif(not ON_POSTGRES, reason="terminates a PostgreSQL server process")
@pytest.mark.usefixtures("open_bet")
def test_without_health_checks_a_dropped_connection_fails_one_request_then_recovers() -> None:
    """CONN_HEALTH_CHECKS off (README, Performance): the request that meets a connection the
    database dropped answers "try again" and moves nothing; its journal row is still written
    (on a new connection), and the next request works."""
    connection.close()
    connection.settings_dict["CONN_HEALTH_CHECKS"] = False
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        terminate_backend(pid)
        answer = post(cancel())
        assert answer["status"] == "9999"
        assert_nothing_moved()
        entry = only_journal_row()
        assert entry.outcome == "busy" and entry.answer == answer
        assert post(cancel())["status"] == "0000"
        assert balance("alice") == D("100")
    finally:
        connection.close()
        connection.settings_dict["CONN_HEALTH_CHECKS"] = True


@pytest.mark.skipif(not ON_POSTGRES, reason="terminates a PostgreSQL server process")
@pytest.mark.usefixtures("open_bet")
def test_a_database_gone_before_the_rollback_still_gets_the_providers_try_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connection dies after the wallet decided and the database cannot be reached again
    (a crash, a failover): Django's rollback fails, and leaving the atomic block would reconnect
    to turn autocommit back on. The provider still gets its "try again", not an error page."""
    port = connection.settings_dict["PORT"]

    def database_gone(*args: Any, **kwargs: Any) -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        terminate_backend(pid)
        connection.settings_dict["PORT"] = "1"  # nothing listens there: reconnecting fails
        raise ValueError("cannot encode the answer")

    monkeypatch.setattr("providers.jdb.adapter._answer", database_gone)
    try:
        answer = post(cancel())
    finally:
        connection.settings_dict["PORT"] = port
        connection.close()
    assert answer["status"] == "9999"
    assert_nothing_moved()
