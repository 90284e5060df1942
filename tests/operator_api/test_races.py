"""Idempotency and staff actions under real concurrency, on PostgreSQL (row locks, unique
indexes that make a second writer wait)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.admin.conftest import open_bet
from tests.helpers import balance, make_player, requires_postgres, run_concurrently
from tests.operator_api.conftest import call
from wallet.models import AuditEntry, LedgerEntry, Player

pytestmark = [pytest.mark.postgres, requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def test_twenty_threads_one_deposit_key_one_movement_twenty_identical_answers(keys):
    make_player("alice", balance="100")

    def post():
        return call(
            "POST",
            "/api/v1/players/alice/deposits/",
            key=keys["platform"],
            body={"currency": "USD", "amount": "7.50", "reference": "cashier-race"},
            idempotency_key="race-deposit-1",
        )

    replies = run_concurrently([post] * THREADS)
    assert all(not isinstance(r, BaseException) for r in replies), replies
    assert {r.status for r in replies} == {201}
    bodies = {json.dumps(r.data, sort_keys=True) for r in replies}
    assert len(bodies) == 1, bodies
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in replies) == THREADS - 1
    assert balance("alice") == Decimal("107.50")
    assert LedgerEntry.objects.filter(reason="cashier-race").count() == 1


def test_different_keys_same_withdrawal_never_overdraws(keys):
    make_player("alice", balance="100")

    def withdraw(number: int):
        return lambda: call(
            "POST",
            "/api/v1/players/alice/withdrawals/",
            key=keys["platform"],
            body={"currency": "USD", "amount": "30"},
            idempotency_key=f"w-{number}",
        )

    replies = run_concurrently([withdraw(n) for n in range(THREADS)])
    statuses = sorted(r.status for r in replies)
    assert statuses.count(201) == 3 and statuses.count(409) == THREADS - 3, statuses
    assert balance("alice") == Decimal("10")


def test_racing_registrations_of_one_player_create_it_once(keys):
    def register(number: int):
        return lambda: call(
            "POST",
            "/api/v1/players/",
            key=keys["platform"],
            body={"account_id": "racer", "currency": "USD", "opening_balance": "50"},
            idempotency_key=f"reg-{number}",
        )

    replies = run_concurrently([register(n) for n in range(10)])
    assert sorted(r.status for r in replies) == [201] + [409] * 9
    assert Player.objects.filter(account_id="racer").count() == 1
    assert balance("racer") == Decimal("50")


def test_racing_staff_cancels_refund_once(keys):
    make_player("alice", balance="100")
    bet = open_bet("race-cancel", amount="25")

    def cancel(number: int):
        return lambda: call(
            "POST",
            f"/api/v1/bets/{bet.pk}/cancel/",
            key=keys["support"],
            body={"reason": f"support click {number}"},
            idempotency_key=f"c-{number}",
        )

    replies = run_concurrently([cancel(n) for n in range(10)])
    statuses = sorted(r.status for r in replies)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 503}, statuses
    assert balance("alice") == Decimal("100")
    assert LedgerEntry.objects.filter(bet=bet, kind="refund").count() == 1
    assert AuditEntry.objects.filter(bet=bet).count() == 1
