"""Four-eyes in the admin: proposing from the bet and wallet pages, the queue, the dashboard
count, approving and rejecting, and what each role is told."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.admin.conftest import open_bet, staff
from tests.helpers import balance
from wallet.models import AuditEntry, BetState, Proposal, ProposalStatus, Wallet

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice", "ledger_is_consistent")]

D = Decimal


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def propose_cancel(client, bet):
    url = reverse("admin:wallet_bet_cancel", args=[bet.pk])
    return client.post(url, {"reason": "Ticket 81", "confirm": "1"}, follow=True)


def test_the_cancel_page_says_it_proposes_above_the_threshold(as_user, proposer) -> None:
    bet = open_bet("big", amount="60")
    page = as_user(proposer).get(reverse("admin:wallet_bet_cancel", args=[bet.pk]))
    html = page.content.decode()
    assert "Needs a second person." in html and "Above 50.00 USD" in html
    assert "Propose for approval: cancel the bet and refund the stake" in html
    small = open_bet("small", amount="5")
    html = as_user(proposer).get(reverse("admin:wallet_bet_cancel", args=[small.pk])).content
    assert b"Needs a second person." not in html


def test_propose_then_approve_in_the_admin(as_user, proposer, approver) -> None:
    bet = open_bet("big", amount="60")
    proposed = propose_cancel(as_user(proposer), bet)
    assert "is proposed" in messages_of(proposed) and "nothing has moved yet" in messages_of(
        proposed
    )
    assert balance() == D(40) and "Waiting for approval:" in proposed.content.decode()
    proposal = Proposal.objects.get()

    client = as_user(approver)
    dashboard = client.get(reverse("admin:index")).content.decode()
    assert "1</strong> staff money action waiting for approval" in dashboard
    queue = client.get(reverse("admin:wallet_proposal_changelist")).content.decode()
    assert "Cancel and refund #" in queue and "60.00 USD" in queue and "sam_support" in queue
    page = client.get(reverse("admin:wallet_proposal_change", args=[proposal.pk])).content.decode()
    assert "40.00 USD" in page and "100.00 USD" in page and "Approve: apply +60.00 USD now" in page

    done = client.post(
        reverse("admin:wallet_proposal_approve", args=[proposal.pk]),
        {"approve-reason": "Checked with the provider"},
        follow=True,
    )
    assert "Approved and applied" in messages_of(done) and "100.00 USD" in messages_of(done)
    assert balance() == D(100)
    bet.refresh_from_db()
    assert bet.state == BetState.CANCELLED
    assert Proposal.objects.get().status == ProposalStatus.APPLIED
    assert (
        "0</strong> staff money actions waiting"
        in client.get(reverse("admin:index")).content.decode()
    )


def test_the_proposer_and_support_are_told_why_they_cannot_decide(
    as_user, proposer, approver
) -> None:
    bet = open_bet("big", amount="60")
    propose_cancel(as_user(proposer), bet)
    proposal = Proposal.objects.get()
    page = reverse("admin:wallet_proposal_change", args=[proposal.pk])
    own = as_user(proposer).get(page).content.decode()
    assert "You proposed this" in own and "approve-form" not in own
    refused = as_user(proposer).post(
        reverse("admin:wallet_proposal_approve", args=[proposal.pk]), {"approve-reason": "me"}
    )
    assert refused.status_code == 403
    assert "needs the Approver role" in refused.content.decode()
    both = staff("bo_both", "Support", "Approver")
    wallet = Wallet.objects.get(player__account_id="alice")
    as_user(both).post(
        reverse("admin:wallet_wallet_adjust", args=[wallet.pk]),
        {"direction": "credit", "amount": "70", "category": "other", "reason": "x", "confirm": "1"},
    )
    mine = Proposal.objects.get(proposed_by=both)
    response = as_user(both).post(
        reverse("admin:wallet_proposal_approve", args=[mine.pk]),
        {"approve-reason": "me"},
        follow=True,
    )
    assert "You proposed this yourself" in messages_of(response)
    assert balance() == D(40)  # nothing applied
    assert Proposal.objects.filter(status=ProposalStatus.PENDING).count() == 2


def test_reject_in_the_admin_moves_nothing(as_user, proposer, approver) -> None:
    wallet = Wallet.objects.get(player__account_id="alice")
    url = reverse("admin:wallet_wallet_adjust", args=[wallet.pk])
    form = {"direction": "credit", "amount": "75", "category": "goodwill", "reason": "VIP"}
    preview = as_user(proposer).post(url, {**form, "preview": "1"}).content.decode()
    assert "Propose for approval: adjustment of +75.00 USD" in preview
    as_user(proposer).post(url, {**form, "confirm": "1"})
    proposal = Proposal.objects.get()
    assert balance() == D(100)
    done = as_user(approver).post(
        reverse("admin:wallet_proposal_reject", args=[proposal.pk]),
        {"reject-reason": "No VIP status"},
        follow=True,
    )
    assert "Rejected" in messages_of(done) and "Nothing moved" in messages_of(done)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REJECTED and proposal.decided_by == approver
    assert balance() == D(100)
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "proposal_made",
        "proposal_rejected",
    ]
    decided = as_user(approver).get(reverse("admin:wallet_proposal_changelist") + "?show=decided")
    assert "Rejected" in decided.content.decode()


def test_a_reason_is_required_to_decide(as_user, proposer, approver) -> None:
    bet = open_bet("big", amount="60")
    propose_cancel(as_user(proposer), bet)
    proposal = Proposal.objects.get()
    response = as_user(approver).post(
        reverse("admin:wallet_proposal_approve", args=[proposal.pk]),
        {"approve-reason": "  "},
        follow=True,
    )
    assert "Write why" in messages_of(response)
    assert balance() == D(40) and Proposal.objects.get().status == ProposalStatus.PENDING
