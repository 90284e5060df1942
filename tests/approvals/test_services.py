"""Four-eyes in the services: what is held, who may decide, and what an approval re-checks.

These run on SQLite and on PostgreSQL; the races are in test_races.py (PostgreSQL only).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from tests.admin.conftest import open_bet, staff
from tests.helpers import balance, ledger_kinds, make_player
from wallet.models import AuditEntry, Bet, BetState, LedgerEntry, Proposal, ProposalStatus, Wallet
from wallet.services import (
    ApprovalRefused,
    StaffActionRefused,
    approve_proposal,
    bet_cancel,
    expire_due_proposals,
    reject_proposal,
    request_adjustment,
    request_bet_cancel,
    request_bet_resolve,
    waiting_proposals,
)
from wallet.services.approvals import needs_approval, parse_thresholds

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal


@pytest.fixture
def wallet() -> Wallet:
    return Wallet.objects.get(player=make_player("alice", "USD", "100"))


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_thresholds_parse_per_currency_with_a_default() -> None:
    assert parse_thresholds("500,JPY:50000") == {"*": D(500), "JPY": D(50000)}
    assert parse_thresholds("usd:0.5") == {"USD": D("0.5")}
    assert parse_thresholds("0") == {"*": D(0)}
    with pytest.raises(ImproperlyConfigured, match="FOUR_EYES_THRESHOLD 'USD:1e3'"):
        parse_thresholds("USD:1e3")


def test_the_rule_is_above_the_threshold_and_zero_means_every_action(settings) -> None:
    assert not needs_approval(D(50), "USD") and needs_approval(D("50.01"), "USD")
    assert needs_approval(D("-50.01"), "USD")  # a debit counts by its size
    assert not needs_approval(D(5000), "JPY") and needs_approval(D(5001), "JPY")
    settings.FOUR_EYES_THRESHOLD = "0"
    assert needs_approval(D(0), "USD") and needs_approval(D("0.01"), "EUR")
    settings.FOUR_EYES_THRESHOLD = "USD:10"
    assert needs_approval(D(1), "EUR")  # a currency not named, and no default: every action


def test_under_the_threshold_applies_at_once(proposer, wallet) -> None:
    done = request_adjustment(
        wallet_id=wallet.pk, amount=D(50), category="goodwill", actor=proposer, reason="T-1"
    )
    assert done.proposal is None and done.balance == D(150) == balance()
    bet = open_bet("small", amount="20")
    assert request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="T-2").balance == D(150)
    assert not Proposal.objects.exists()
    assert actions() == ["staff_adjustment", "cancel_and_refund"]


def test_above_the_threshold_a_proposal_waits_and_nothing_moves(proposer, wallet) -> None:
    done = request_adjustment(
        wallet_id=wallet.pk, amount=D("-60"), category="chargeback", actor=proposer, reason="CB 7"
    )
    proposal = done.proposal
    assert proposal is not None and done.balance is None
    assert (proposal.status, proposal.amount, proposal.currency) == ("pending", D(-60), "USD")
    assert proposal.expires_at - proposal.created_at == timedelta(hours=24)
    assert balance() == D(100)
    assert not LedgerEntry.objects.filter(kind="staff_adjustment").exists()
    assert actions() == ["proposal_made"]
    assert list(waiting_proposals()) == [proposal]


def test_self_approval_is_refused_even_for_an_approver(wallet) -> None:
    both = staff("bo_both", "Support", "Approver")
    proposal = request_adjustment(
        wallet_id=wallet.pk, amount=D(70), category="goodwill", actor=both, reason="Mine"
    ).proposal
    assert proposal is not None
    with pytest.raises(ApprovalRefused, match="You proposed this yourself"):
        approve_proposal(proposal_id=proposal.pk, approver=both, reason="ok")
    with pytest.raises(ApprovalRefused, match="You proposed this yourself"):
        reject_proposal(proposal_id=proposal.pk, approver=both, reason="no")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING and balance() == D(100)
    assert actions() == ["proposal_made"]


def test_a_support_user_without_the_approver_role_cannot_decide(proposer, wallet) -> None:
    proposal = request_adjustment(
        wallet_id=wallet.pk, amount=D(70), category="goodwill", actor=proposer, reason="x"
    ).proposal
    assert proposal is not None
    other_support = staff("sid_support", "Support")
    with pytest.raises(ApprovalRefused, match="needs the Approver role"):
        approve_proposal(proposal_id=proposal.pk, approver=other_support, reason="ok")
    assert balance() == D(100)


def test_approval_applies_the_adjustment_once_with_both_names(proposer, approver, wallet) -> None:
    proposal = request_adjustment(
        wallet_id=wallet.pk, amount=D(70), category="goodwill", actor=proposer, reason="VIP"
    ).proposal
    assert proposal is not None
    done = approve_proposal(proposal_id=proposal.pk, approver=approver, reason="Checked CRM")
    assert done.balance == D(170) == balance()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decision_reason) == (
        "applied",
        approver,
        "Checked CRM",
    )
    row = LedgerEntry.objects.get(kind="staff_adjustment")
    assert row.amount == D(70) and row.staff_user == proposer and row.reason == "Goodwill: VIP"
    assert actions() == ["proposal_made", "staff_adjustment", "proposal_approved"]
    applied = AuditEntry.objects.get(action="staff_adjustment")
    assert applied.actor == proposer
    assert applied.after["approved_by"] == "ada_approver"
    assert applied.after["proposal"] == proposal.pk
    with pytest.raises(ApprovalRefused, match="no longer waiting: approved and applied"):
        approve_proposal(proposal_id=proposal.pk, approver=approver, reason="again")
    assert balance() == D(170)


def test_rejection_moves_nothing_and_keeps_the_reason(proposer, approver, wallet) -> None:
    bet = open_bet("big", amount="80")
    proposal = request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="stuck").proposal
    assert proposal is not None and proposal.amount == D(80)
    rejected = reject_proposal(proposal_id=proposal.pk, approver=approver, reason="Provider paid")
    assert rejected.status == ProposalStatus.REJECTED
    assert rejected.decision_reason == "Provider paid"
    assert balance() == D(20) and Bet.objects.get(pk=bet.pk).state == BetState.OPEN
    assert actions() == ["proposal_made", "proposal_rejected"]
    with pytest.raises(ApprovalRefused, match="no longer waiting: rejected"):
        approve_proposal(proposal_id=proposal.pk, approver=approver, reason="changed my mind")
    assert balance() == D(20)


def test_resolve_with_a_big_win_waits_then_credits_on_approval(proposer, approver, wallet) -> None:
    bet = open_bet("win", amount="10")
    proposal = request_bet_resolve(
        bet_id=bet.pk, actor=proposer, reason="provider says won", win_amount=D("75.5")
    ).proposal
    assert proposal is not None and Bet.objects.get(pk=bet.pk).state == BetState.OPEN
    approve_proposal(proposal_id=proposal.pk, approver=approver, reason="statement line 4")
    assert balance() == D("165.5")
    assert ledger_kinds("win", "buffalo") == [("stake", D(-10)), ("win", D("75.5"))]
    assert Bet.objects.get(pk=bet.pk).state == BetState.SETTLED


def test_one_waiting_proposal_per_bet(proposer, wallet) -> None:
    bet = open_bet("dup", amount="60")
    first = request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="one").proposal
    assert first is not None
    with pytest.raises(
        StaffActionRefused, match=f"already waits for approval \\(proposal #{first.pk}"
    ):
        request_bet_resolve(bet_id=bet.pk, actor=proposer, reason="two", win_amount=D(99))
    assert Proposal.objects.count() == 1


def test_a_closed_bet_is_refused_when_proposed(proposer, wallet) -> None:
    bet = open_bet("gone", amount="60")
    bet_cancel(provider="buffalo", bet_keys=["gone"], tx_id="c-gone", account_id="alice")
    with pytest.raises(StaffActionRefused, match="Only an open bet"):
        request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="late")
    assert not Proposal.objects.exists()


def test_expired_proposals_cannot_be_approved(proposer, approver, wallet, settings) -> None:
    proposal = request_adjustment(
        wallet_id=wallet.pk, amount=D(90), category="other", actor=proposer, reason="old"
    ).proposal
    assert proposal is not None
    Proposal.objects.filter(pk=proposal.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert list(waiting_proposals()) == []
    with pytest.raises(ApprovalRefused, match=r"expired at .* without approval"):
        approve_proposal(proposal_id=proposal.pk, approver=approver, reason="late")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.EXPIRED and proposal.decided_by is None
    assert balance() == D(100)
    assert actions() == ["proposal_made", "proposal_expired"]
    expired = AuditEntry.objects.get(action="proposal_expired")
    assert expired.actor == proposer and "24 h" in expired.reason


def test_expiry_is_marked_when_the_queue_is_read(proposer, wallet) -> None:
    proposal = request_adjustment(
        wallet_id=wallet.pk, amount=D(90), category="other", actor=proposer, reason="old"
    ).proposal
    assert proposal is not None
    Proposal.objects.filter(pk=proposal.pk).update(expires_at=timezone.now())
    assert expire_due_proposals() == 1
    assert expire_due_proposals() == 0
    assert Proposal.objects.get().status == ProposalStatus.EXPIRED


def test_an_expired_proposal_frees_the_bet_for_a_new_one(proposer, wallet) -> None:
    bet = open_bet("again", amount="60")
    first = request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="one").proposal
    assert first is not None
    Proposal.objects.filter(pk=first.pk).update(expires_at=timezone.now())
    second = request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="two").proposal
    assert second is not None and second.pk != first.pk
    assert Proposal.objects.get(pk=first.pk).status == ProposalStatus.EXPIRED


def test_a_debit_approved_after_the_balance_fell_is_refused(proposer, approver, wallet) -> None:
    proposal = request_adjustment(
        wallet_id=wallet.pk, amount=D(-90), category="correction", actor=proposer, reason="dup"
    ).proposal
    assert proposal is not None
    open_bet("spend", amount="20")  # the player spends meanwhile: 80 left
    with pytest.raises(ApprovalRefused, match=r"less than the 90\.00 USD to debit"):
        approve_proposal(proposal_id=proposal.pk, approver=approver, reason="ok")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.FAILED and proposal.decided_by == approver
    assert balance() == D(80)
    assert actions() == ["proposal_made", "proposal_failed"]
