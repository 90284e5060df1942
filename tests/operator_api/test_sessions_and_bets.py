"""Sessions the providers then present, and the staff actions on bets through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from providers.buffalo.client import build_request
from tests.admin.conftest import journal, open_bet
from tests.helpers import balance, make_player
from tests.operator_api.conftest import call
from tests.providers.conftest import send_alone
from wallet.models import AuditEntry, Bet, BetState, LedgerEntry

pytestmark = pytest.mark.django_db


def buffalo_balance(sid: str) -> dict:
    signed = build_request(
        {"sid": sid, "userId": "alice", "uuid": f"u-{sid[:6]}"}, function="balance"
    )
    return send_alone(signed).json


def test_a_session_token_works_at_the_provider_until_it_is_revoked(keys):
    make_player("alice", balance="40")
    made = call(
        "POST",
        "/api/v1/sessions/",
        key=keys["platform"],
        body={"account_id": "alice", "provider": "buffalo", "ttl_seconds": 600},
    )
    assert made.status == 201
    assert made.data["currency"] == "USD" and made.data["account_id"] == "alice"
    answer = buffalo_balance(made.data["token"])
    assert (answer["status"], answer["balance"]) == ("OK", 40)
    revoked = call("DELETE", f"/api/v1/sessions/{made.data['token']}/", key=keys["platform"])
    assert revoked.status == 204
    assert buffalo_balance(made.data["token"])["status"] == "INVALID_SID"
    again = call("DELETE", f"/api/v1/sessions/{made.data['token']}/", key=keys["platform"])
    assert again.status == 404


def test_session_refusals(keys):
    make_player("alice", balance="1")
    cases = [
        ({"account_id": "nobody", "provider": "naga"}, "account_id"),
        ({"account_id": "alice", "provider": "nope"}, "provider"),
        ({"account_id": "alice", "provider": "naga", "currency": "EUR"}, "currency"),
        ({"account_id": "alice", "provider": "naga", "ttl_seconds": 5}, "ttl_seconds"),
        ({"account_id": "alice", "provider": "naga", "ttl_seconds": "x"}, "ttl_seconds"),
    ]
    for body, field in cases:
        reply = call("POST", "/api/v1/sessions/", key=keys["platform"], body=body)
        assert reply.status == 400 and field in reply.data, (body, reply.data)


def test_bets_list_filters_and_stuck_reasons(keys):
    make_player("alice", balance="100")
    old = open_bet("old-1", provider="buffalo", age_minutes=120)
    open_bet("new-1", provider="buffalo")
    other = open_bet("jdb-1", provider="jdb", age_minutes=120)
    journal("jdb", "jdb-1", outcome="busy", is_cancel=True)

    def ids(query: str) -> list[int]:
        reply = call("GET", f"/api/v1/bets/?{query}", key=keys["read-only"])
        assert reply.status == 200, reply.data
        return [row["id"] for row in reply.data["results"]]

    assert set(ids("stuck=open_too_long")) == {old.pk, other.pk}
    assert ids("stuck=open_too_long&provider=buffalo") == [old.pk]
    assert ids("stuck=cancel_retry") == [other.pk]
    assert ids("round_id=round-new-1")[0] == Bet.objects.get(bet_key="new-1").pk
    assert len(ids("account_id=alice&state=open")) == 3
    assert ids("state=settled") == []
    bad = call("GET", "/api/v1/bets/?stuck=forever", key=keys["read-only"])
    assert bad.status == 400 and "stuck" in bad.data
    detail = call("GET", f"/api/v1/bets/{other.pk}/", key=keys["read-only"])
    assert detail.status == 200
    assert set(detail.data["stuck_reasons"]) == {"open_too_long", "cancel_retry"}
    assert [row["kind"] for row in detail.data["ledger"]] == ["stake"]
    assert [row["outcome"] for row in detail.data["journal"]] == ["busy"]


def test_cancel_through_the_api_refunds_once_and_audits_the_key_owner(keys):
    make_player("alice", balance="100")
    bet = open_bet("c-1", amount="10")
    assert balance("alice") == Decimal("90")
    path = f"/api/v1/bets/{bet.pk}/cancel/"
    first = call(
        "POST",
        path,
        key=keys["support"],
        body={"reason": "provider confirmed void"},
        idempotency_key="cancel-c-1",
    )
    assert first.status == 200, first.data
    assert first.data["balance"] == "100.00"
    assert first.data["bet"]["state"] == BetState.CANCELLED
    replay = call(
        "POST",
        path,
        key=keys["support"],
        body={"reason": "provider confirmed void"},
        idempotency_key="cancel-c-1",
    )
    assert replay.data == first.data and replay.headers["Idempotent-Replayed"] == "true"
    second = call(
        "POST",
        path,
        key=keys["support"],
        body={"reason": "again"},
        idempotency_key="cancel-c-1-bis",
    )
    assert second.status == 409
    assert "Only an open bet" in second.data["detail"]
    assert balance("alice") == Decimal("100")
    assert LedgerEntry.objects.filter(bet=bet, kind="refund").count() == 1
    audit = AuditEntry.objects.get(bet=bet)
    assert (audit.action, audit.actor.username) == ("cancel_and_refund", "api-test-support")
    assert audit.reason == "provider confirmed void"


def test_resolve_parses_the_win_like_the_admin(keys):
    make_player("alice", balance="100")
    bet = open_bet("r-1", amount="10")
    path = f"/api/v1/bets/{bet.pk}/resolve/"
    for win in ["1.005", "-1", "1e2", 3, "1.000,00"]:
        reply = call("POST", path, key=keys["support"], body={"reason": "x", "win_amount": win})
        assert reply.status == 400 and "win_amount" in reply.data, (win, reply.data)
    missing = call("POST", path, key=keys["support"], body={"win_amount": "1"})
    assert missing.status == 400 and "reason" in missing.data
    ok = call("POST", path, key=keys["support"], body={"reason": "paid", "win_amount": "12,50"})
    assert ok.status == 200
    assert ok.data["balance"] == "102.50"
    assert balance("alice") == Decimal("102.50")


def test_review_clears_the_flag_and_refuses_an_unflagged_bet(keys):
    make_player("alice", balance="100")
    bet = open_bet("v-1")
    path = f"/api/v1/bets/{bet.pk}/review/"
    assert call("POST", path, key=keys["support"], body={"reason": "x"}).status == 409
    Bet.objects.filter(pk=bet.pk).update(needs_review=True, review_reason="odd amount")
    reply = call("POST", path, key=keys["support"], body={"reason": "checked with provider"})
    assert reply.status == 200
    assert reply.data["bet"]["needs_review"] is False
    assert balance("alice") == Decimal("90")
    assert (
        call(
            "POST", "/api/v1/bets/999999/review/", key=keys["support"], body={"reason": "x"}
        ).status
        == 404
    )


def test_journal_filters(keys):
    make_player("alice", balance="100")
    bet = open_bet("j-1")
    journal("buffalo", "j-1", outcome="ok")
    journal("jdb", "other", outcome="ok")
    reply = call("GET", f"/api/v1/journal/?bet={bet.pk}", key=keys["read-only"])
    assert [row["bet_key"] for row in reply.data["results"]] == ["j-1"]
    assert (
        call("GET", "/api/v1/journal/?provider=jdb", key=keys["read-only"]).data["results"][0][
            "bet_key"
        ]
        == "other"
    )
    assert call("GET", "/api/v1/journal/?bet=x", key=keys["read-only"]).status == 400
