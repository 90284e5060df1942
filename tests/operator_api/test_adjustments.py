"""Manual adjustments through the API: Support only, Idempotency-Key required, money checked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, make_player
from tests.operator_api.conftest import call
from wallet.models import AuditEntry, LedgerEntry, LedgerKind

pytestmark = pytest.mark.django_db

BODY = {
    "currency": "USD",
    "direction": "credit",
    "amount": "7.25",
    "category": "goodwill",
    "reason": "Ticket 5",
}


def adjust(key: str, body: dict, idem: str | None = "adj-1"):
    return call(
        "POST", "/api/v1/players/alice/adjustments/", key=key, body=body, idempotency_key=idem
    )


def test_support_credits_once_and_a_retry_replays(keys):
    make_player("alice", balance="10")
    first = adjust(keys["support"], BODY)
    assert first.status == 201, first.data
    assert first.data["balance"] == "17.25"
    assert first.data["entry"]["kind"] == "staff_adjustment"
    assert first.data["entry"]["reason"] == "Goodwill: Ticket 5"
    assert first.data["entry"]["staff_user"] == "api-test-support"
    again = adjust(keys["support"], BODY)
    assert again.status == 201 and again.data == first.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert balance() == Decimal("17.25")
    assert LedgerEntry.objects.filter(kind=LedgerKind.STAFF_ADJUSTMENT).count() == 1
    audit = AuditEntry.objects.get()
    assert audit.actor.username == "api-test-support" and audit.action == "staff_adjustment"


def test_a_debit_past_the_balance_is_409_and_moves_nothing(keys):
    make_player("alice", balance="10")
    reply = adjust(keys["support"], {**BODY, "direction": "debit", "amount": "10.01"})
    assert reply.status == 409 and reply.data["code"] == "refused"
    assert "less than the 10.01 USD" in reply.data["detail"]
    assert balance() == Decimal("10")
    assert not AuditEntry.objects.exists()


def test_only_support_may_and_the_key_is_required(keys):
    make_player("alice", balance="10")
    for role in ("platform", "finance", "read-only"):
        refused = adjust(keys[role], BODY, idem=f"adj-{role}")
        assert refused.status == 403, role
        assert "Support" in refused.data["detail"]
    missing = adjust(keys["support"], BODY, idem=None)
    assert missing.status == 400 and "Idempotency-Key" in missing.data
    assert balance() == Decimal("10")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": 5}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"category": "bonus"}, "category"),
        ({"direction": "up"}, "direction"),
        ({"currency": "EUR"}, "currency"),
        ({"reason": ""}, "reason"),
    ],
)
def test_bad_bodies_are_field_errors(keys, changes, field):
    make_player("alice", balance="10")
    reply = adjust(keys["support"], {**BODY, **changes})
    assert reply.status == 400 and field in reply.data, reply.data
    assert balance() == Decimal("10")
