"""Four-eyes through the operator API: 202 with the proposal, the list, approve and reject
(staff sessions with the Approver role; no API key role may decide)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from tests.admin.conftest import open_bet
from tests.helpers import balance, make_player
from tests.operator_api.conftest import call
from wallet.models import Bet, BetState, LedgerEntry, Proposal, ProposalStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal


@pytest.fixture(autouse=True)
def _alice(db) -> None:
    make_player("alice", "USD", "100")


def session_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_big_cancel_is_a_kept_202_and_the_approver_applies_it(keys, approver) -> None:
    bet = open_bet("big", amount="60")
    path = f"/api/v1/bets/{bet.pk}/cancel/"
    first = call("POST", path, key=keys["support"], body={"reason": "T-1"}, idempotency_key="c1")
    assert first.status == 202, first.data
    proposal = first.data["proposal"]
    assert (proposal["status"], proposal["amount"], proposal["kind"]) == (
        "pending",
        "60.00",
        "cancel_and_refund",
    )
    assert (
        proposal["proposed_by"] == "api-test-support"
        and "nothing has moved" in first.data["detail"]
    )
    again = call("POST", path, key=keys["support"], body={"reason": "T-1"}, idempotency_key="c1")
    assert again.status == 202 and again.data == first.data and Proposal.objects.count() == 1
    assert balance() == D(40)

    listed = call("GET", "/api/v1/proposals/?status=pending", key=keys["read-only"])
    assert [p["id"] for p in listed.data["results"]] == [proposal["id"]]

    approve = f"/api/v1/proposals/{proposal['id']}/approve/"
    denied = call("POST", approve, key=keys["support"], body={"reason": "me"})
    assert denied.status == 403 and "approve or reject" in denied.data["detail"]
    done = call("POST", approve, body={"reason": "ok"}, client=session_of(approver))
    assert done.status == 200, done.data
    assert done.data["balance"] == "100.00" and done.data["proposal"]["status"] == "applied"
    assert done.data["proposal"]["decided_by"] == "ada_approver"
    assert balance() == D(100) and Bet.objects.get(pk=bet.pk).state == BetState.CANCELLED
    twice = call("POST", approve, body={"reason": "ok"}, client=session_of(approver))
    assert twice.status == 409 and "no longer waiting" in twice.data["detail"]
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_big_adjustment_is_202_and_a_rejection_moves_nothing(keys, approver) -> None:
    body = {
        "currency": "USD",
        "direction": "debit",
        "amount": "80",
        "category": "chargeback",
        "reason": "CB-9",
    }
    reply = call(
        "POST",
        "/api/v1/players/alice/adjustments/",
        key=keys["support"],
        body=body,
        idempotency_key="a1",
    )
    assert reply.status == 202 and reply.data["proposal"]["amount"] == "-80.00"
    reject = f"/api/v1/proposals/{reply.data['proposal']['id']}/reject/"
    done = call("POST", reject, body={"reason": "not a chargeback"}, client=session_of(approver))
    assert done.status == 200 and done.data["proposal"]["status"] == "rejected"
    assert done.data["balance"] is None and balance() == D(100)


def test_a_big_resolve_is_202_and_approval_after_the_provider_cancel_is_409(keys, approver):
    from wallet.services import bet_cancel

    bet = open_bet("won", amount="10")
    reply = call(
        "POST",
        f"/api/v1/bets/{bet.pk}/resolve/",
        key=keys["support"],
        body={"reason": "won", "win_amount": "99"},
    )
    assert reply.status == 202
    bet_cancel(provider="buffalo", bet_keys=["won"], tx_id="p", account_id="alice")
    approve = f"/api/v1/proposals/{reply.data['proposal']['id']}/approve/"
    refused = call("POST", approve, body={"reason": "ok"}, client=session_of(approver))
    assert refused.status == 409 and "this one is cancelled" in refused.data["detail"]
    assert refused.data["proposal"]["status"] == "failed"
    assert balance() == D(100)
    assert not LedgerEntry.objects.filter(kind="win").exists()
    assert Proposal.objects.get().status == ProposalStatus.FAILED


def test_under_the_threshold_the_api_applies_at_once(keys) -> None:
    bet = open_bet("small", amount="5")
    reply = call(
        "POST", f"/api/v1/bets/{bet.pk}/cancel/", key=keys["support"], body={"reason": "x"}
    )
    assert reply.status == 200 and reply.data["balance"] == "100.00"
    assert not Proposal.objects.exists()
