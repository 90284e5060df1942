"""Four-eyes on PostgreSQL, with real row locks: what the issue asks to see.

Self-approval refused; an approval after the provider cancelled the bet refused with nothing
moved; two approvers racing on one proposal apply it once; an expired proposal cannot be
approved; an amount under the threshold applies at once. Each test checks balances and rows.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.admin.conftest import open_bet, staff
from tests.helpers import balance, ledger_kinds, make_player, requires_postgres, run_concurrently
from wallet.consistency import check_ledger
from wallet.models import (
    AuditEntry,
    Bet,
    BetState,
    LedgerEntry,
    Proposal,
    ProposalStatus,
    Wallet,
)
from wallet.services import (
    ApprovalRefused,
    approve_proposal,
    bet_cancel,
    request_adjustment,
    request_bet_cancel,
)

pytestmark = [pytest.mark.postgres, requires_postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
User = get_user_model()


@pytest.fixture(autouse=True)
def _alice() -> None:
    make_player("alice", "USD", "100")


@pytest.fixture(autouse=True)
def _ledger_checked():
    yield
    report = check_ledger()
    assert report.ok, [str(p) for p in report.problems]


def _actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_self_approval_is_refused() -> None:
    both = staff("bo_both", "Support", "Approver")
    bet = open_bet("self", amount="60")
    proposal = request_bet_cancel(bet_id=bet.pk, actor=both, reason="ticket").proposal
    assert proposal is not None
    with pytest.raises(ApprovalRefused, match="You proposed this yourself"):
        approve_proposal(proposal_id=proposal.pk, approver=both, reason="fine by me")
    assert balance() == D(40) and Bet.objects.get(pk=bet.pk).state == BetState.OPEN
    assert Proposal.objects.get().status == ProposalStatus.PENDING
    assert ledger_kinds("self", "buffalo") == [("stake", D(-60))]


def test_approval_after_the_provider_cancelled_is_refused_and_moves_nothing(
    proposer, approver
) -> None:
    bet = open_bet("late", amount="60")
    proposal = request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="stuck").proposal
    assert proposal is not None
    # Meanwhile the provider's own cancel arrives and refunds the stake.
    bet_cancel(provider="buffalo", bet_keys=["late"], tx_id="prov-cancel", account_id="alice")
    assert balance() == D(100)
    with pytest.raises(ApprovalRefused, match="this one is cancelled"):
        approve_proposal(proposal_id=proposal.pk, approver=approver, reason="ok")
    assert balance() == D(100)
    assert ledger_kinds("late", "buffalo") == [("stake", D(-60)), ("refund", D(60))]
    refund = LedgerEntry.objects.get(kind="refund")
    assert refund.staff_user is None  # the provider's refund, not a staff one
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.FAILED
    assert "this one is cancelled" in proposal.decision_reason
    assert _actions() == ["proposal_made", "proposal_failed"]


def test_two_approvers_racing_on_one_proposal_apply_it_once(
    proposer, approver, second_approver
) -> None:
    bet = open_bet("race", amount="60")
    proposal = request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="stuck").proposal
    assert proposal is not None

    def approve_as(user_id: int):
        return lambda: approve_proposal(
            proposal_id=proposal.pk, approver=User.objects.get(pk=user_id), reason="race"
        )

    results = run_concurrently([approve_as(approver.pk), approve_as(second_approver.pk)] * 3)
    applied = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, ApprovalRefused)]
    assert len(applied) == 1 and len(refused) == 5, results
    assert all("no longer waiting: approved and applied" in str(r) for r in refused)
    assert balance() == D(100)
    assert ledger_kinds("race", "buffalo") == [("stake", D(-60)), ("refund", D(60))]
    assert _actions() == ["proposal_made", "cancel_and_refund", "proposal_approved"]
    assert Proposal.objects.get().status == ProposalStatus.APPLIED


def test_approval_racing_the_provider_cancel_refunds_once(proposer, approver) -> None:
    bet = open_bet("duel", amount="60")
    proposal = request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="stuck").proposal
    assert proposal is not None

    def provider_cancel():
        return bet_cancel(provider="buffalo", bet_keys=["duel"], tx_id="p", account_id="alice")

    def staff_approval():
        return approve_proposal(
            proposal_id=proposal.pk, approver=User.objects.get(pk=approver.pk), reason="ok"
        )

    run_concurrently([provider_cancel, staff_approval])
    assert balance() == D(100)
    assert ledger_kinds("duel", "buffalo") == [("stake", D(-60)), ("refund", D(60))]
    assert Proposal.objects.get().status in (ProposalStatus.APPLIED, ProposalStatus.FAILED)


def test_an_expired_proposal_cannot_be_approved(proposer, approver) -> None:
    wallet = Wallet.objects.get(player__account_id="alice")
    proposal = request_adjustment(
        wallet_id=wallet.pk, amount=D(75), category="goodwill", actor=proposer, reason="VIP"
    ).proposal
    assert proposal is not None
    Proposal.objects.filter(pk=proposal.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(ApprovalRefused, match="expired"):
        approve_proposal(proposal_id=proposal.pk, approver=approver, reason="late")
    assert balance() == D(100)
    assert not LedgerEntry.objects.filter(kind="staff_adjustment").exists()
    assert Proposal.objects.get().status == ProposalStatus.EXPIRED
    assert _actions() == ["proposal_made", "proposal_expired"]


def test_under_the_threshold_applies_at_once(proposer) -> None:
    bet = open_bet("small", amount="50")  # the threshold is 50: not above it
    done = request_bet_cancel(bet_id=bet.pk, actor=proposer, reason="stuck")
    assert done.proposal is None and done.balance == D(100) == balance()
    assert not Proposal.objects.exists()
    assert _actions() == ["cancel_and_refund"]
