"""Action 4 racing its own Action 8, and the bounded lock wait, on real PostgreSQL row locks.

Each thread drives the real endpoint with its own Django test client and its own database
connection (``tests.helpers.run_concurrently``); SQLite serialises whole transactions and would
prove nothing, so these run on PostgreSQL only.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from journal.models import JournalEntry
from providers.jdb.client import build_request
from tests.helpers import (
    balance,
    bet,
    ledger_kinds,
    make_player,
    run_concurrently,
)
from tests.providers.conftest import RACE, send_alone
from tests.providers.jdb.jdb_wire import CNY_PLAYER, bet_n_settle, cancel_bet_n_settle
from wallet.consistency import check_ledger
from wallet.models import Bet, BetState

pytestmark = RACE

D = Decimal
ROUNDS = 30


def post(payload: dict[str, Any]) -> dict[str, Any]:
    """One request from a fresh client, as a separate JDB worker would send it."""
    sent = send_alone(build_request(payload))
    assert sent.status == 200, sent
    return sent.json  # type: ignore[no-any-return]


@pytest.mark.parametrize("policy", ["keep", "reverse"])
def test_action_4_and_its_action_8_at_the_same_moment_never_lose_or_make_money(
    settings, policy: str
) -> None:
    settings.JDB_CANCEL_SETTLED = policy
    make_player(CNY_PLAYER, "CNY", "1000")
    expected = D("1000")
    seen: set[tuple[str, str]] = set()
    for n in range(ROUNDS):
        transfer_id = 7000 + n
        placed, cancelled = run_concurrently(
            [
                lambda t=transfer_id: post(bet_n_settle(t, "-10", "25")),
                lambda t=transfer_id: post(cancel_bet_n_settle(t)),
            ]
        )
        assert isinstance(placed, dict) and isinstance(cancelled, dict), (placed, cancelled)
        pair = (placed["status"], cancelled["status"])
        seen.add(pair)
        final = bet(str(transfer_id), "jdb")
        rows = ledger_kinds(str(transfer_id), "jdb")
        if pair == ("9015", "0000"):  # the cancel came first: tombstone, late bet refused
            assert final.state == BetState.TOMBSTONE and rows == []
        elif pair == ("0000", "6101"):  # the bet came first and stands (keep)
            assert policy == "keep" and final.state == BetState.SETTLED
            assert rows == [("stake", D("-10")), ("win", D("25"))]
            expected += D("15")
        elif pair == ("0000", "0000"):  # the bet came first and was reversed
            assert policy == "reverse" and final.state == BetState.CANCELLED
            assert rows == [("stake", D("-10")), ("win", D("25")), ("reversal", D("-15"))]
        else:
            pytest.fail(f"round {n}: answers {pair} are not an allowed pair")
        assert balance(CNY_PLAYER, "CNY") == expected
    report = check_ledger()
    assert report.ok, [str(p) for p in report.problems]
    # Which orders happened is up to the scheduler; every one was checked. Shown with -s:
    print(f"policy={policy}: answer pairs seen {sorted(seen)}")


def settings_lock_timeout_ms() -> int:
    from django.conf import settings

    return int(settings.WALLET_LOCK_TIMEOUT_MS)


def test_production_connections_bound_lock_waits() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        shown = cursor.fetchone()[0]
    ms = settings_lock_timeout_ms()
    assert shown in (f"{ms}ms", f"{ms // 1000}s"), shown


def test_action_4_whose_lock_wait_times_out_answers_9017_and_moves_nothing(
    client, short_lock_timeout, hold_row
) -> None:
    make_player(CNY_PLAYER, "CNY", "1000")
    assert post(bet_n_settle(7100, "-10", "25"))["status"] == "0000"
    with hold_row(lambda: Bet.objects.select_for_update().get(provider="jdb", bet_key="7100")):
        signed = build_request(cancel_bet_n_settle(7100))
        started = time.monotonic()
        response = client.post(signed.path, signed.body, content_type=signed.content_type)
        waited = time.monotonic() - started
    assert response.json()["status"] == "9017"
    assert waited < 1.5  # bounded by the lock timeout, well under JDB's 3 s
    assert balance(CNY_PLAYER, "CNY") == D("1015")
    assert bet("7100", "jdb").state == BetState.SETTLED
    assert bet("7100", "jdb").cancel_outcome == ""  # nothing decided: JDB's resend decides
    entry = JournalEntry.objects.filter(bet_key="7100", is_cancel=True).get()
    assert entry.outcome == "busy" and entry.answer["status"] == "9017"
    # JDB resends a minute later; the lock is gone and the round stands.
    assert post(cancel_bet_n_settle(7100))["status"] == "6101"
    assert check_ledger().ok
