"""Four-eyes (maker-checker) for staff money actions.

A manual adjustment, a cancel-and-refund or a resolve-with-a-win whose amount is above
``FOUR_EYES_THRESHOLD`` for its currency is not applied when staff ask for it: it becomes a
``Proposal`` that a second person with the Approver role approves or rejects, with a reason,
before ``FOUR_EYES_EXPIRY_HOURS`` have passed. The proposer can never decide their own. An
approval runs the action then, against the bet and the wallet as they are at that moment (the
provider may have cancelled the bet meanwhile): if it no longer applies, the approval is
refused with that reason and nothing moves. Every step writes an audit row in its own
transaction.

The admin and the operator API call the ``request_*`` functions here, never the ``staff.py``
and ``adjustments.py`` actions directly. Locks: proposal, then bet, then wallet.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from wallet.display import amount_text, when
from wallet.models import (
    AuditEntry,
    Bet,
    BetState,
    Proposal,
    ProposalKind,
    ProposalStatus,
    Wallet,
)
from wallet.money import InvalidAmount, parse_amount
from wallet.services.adjustments import check_adjustment, wallet_staff_adjust
from wallet.services.staff import (
    StaffActionRefused,
    bet_staff_cancel,
    bet_staff_resolve,
    require_reason,
)

APPROVE_PERMISSION = "wallet.approve_proposal"
_PLAIN_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
ANY_CURRENCY = "*"


@dataclass(frozen=True)
class StaffRequest:
    """What asking for a staff money action came to: applied (the new balance, or None when
    no money moved), or a proposal waiting for approval."""

    balance: Decimal | None = None
    proposal: Proposal | None = None


class ApprovalRefused(StaffActionRefused):
    """An approval or rejection that was refused; ``proposal`` as it stands afterwards."""

    def __init__(self, message: str, proposal: Proposal | None = None) -> None:
        super().__init__(message)
        self.proposal = proposal


# --- the threshold -----------------------------------------------------------------------------


@functools.cache
def parse_thresholds(text: str) -> dict[str, Decimal]:
    """``FOUR_EYES_THRESHOLD``: ``<amount>`` for every currency and/or ``<CUR>:<amount>`` pairs,
    e.g. ``500,JPY:50000``. A currency not named gets the bare amount, or 0 (every action)."""
    thresholds: dict[str, Decimal] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        currency, _, value = item.rpartition(":")
        key = currency.strip().upper() or ANY_CURRENCY
        try:
            if not _PLAIN_AMOUNT.fullmatch(value.strip()):
                raise InvalidAmount("write the amount as digits, for example 500 or 500.00")
            thresholds[key] = parse_amount(value.strip(), field="threshold", allow_text=True)
        except InvalidAmount as exc:
            raise ImproperlyConfigured(f"FOUR_EYES_THRESHOLD {item!r}: {exc}") from exc
    return thresholds


def threshold_for(currency: str) -> Decimal:
    thresholds = parse_thresholds(settings.FOUR_EYES_THRESHOLD)
    return thresholds.get(currency.upper(), thresholds.get(ANY_CURRENCY, Decimal(0)))


def needs_approval(amount: Decimal, currency: str) -> bool:
    """Above the currency's threshold, or every action when the threshold is 0."""
    threshold = threshold_for(currency)
    return threshold == 0 or abs(amount) > threshold


def approval_rule(currency: str) -> str:
    """The rule in words, for the confirmation pages."""
    threshold = threshold_for(currency)
    if threshold == 0:
        return "Every staff money action needs a second person's approval."
    return (
        f"Above {amount_text(threshold, currency)} a second person with the Approver role "
        "must approve it."
    )


# --- asking ------------------------------------------------------------------------------------


def request_bet_cancel(*, bet_id: int, actor: User, reason: str) -> StaffRequest:
    """Cancel and refund now, or propose it when the stake is above the threshold."""
    bet = Bet.objects.get(pk=bet_id)
    currency = _bet_currency(bet)
    if not needs_approval(bet.stake, currency):
        return StaffRequest(balance=bet_staff_cancel(bet_id=bet_id, actor=actor, reason=reason))
    _require_open(bet, "cancelled and refunded")
    return StaffRequest(proposal=_propose(ProposalKind.CANCEL, actor, reason, bet.stake, bet=bet))


def request_bet_resolve(
    *, bet_id: int, actor: User, reason: str, win_amount: Decimal
) -> StaffRequest:
    """Resolve as settled now, or propose it when the win is above the threshold."""
    bet = Bet.objects.get(pk=bet_id)
    if win_amount < 0:
        raise StaffActionRefused("The win amount cannot be negative.")
    if not needs_approval(win_amount, _bet_currency(bet)):
        balance = bet_staff_resolve(
            bet_id=bet_id, actor=actor, reason=reason, win_amount=win_amount
        )
        return StaffRequest(balance=balance)
    _require_open(bet, "resolved as settled")
    return StaffRequest(proposal=_propose(ProposalKind.RESOLVE, actor, reason, win_amount, bet=bet))


def request_adjustment(
    *, wallet_id: int, amount: Decimal, category: str, actor: User, reason: str
) -> StaffRequest:
    """Credit or debit now, or propose it when the amount is above the threshold."""
    wallet = Wallet.objects.get(pk=wallet_id)
    if not needs_approval(amount, wallet.currency):
        balance = wallet_staff_adjust(
            wallet_id=wallet_id, amount=amount, category=category, actor=actor, reason=reason
        )
        return StaffRequest(balance=balance)
    check_adjustment(amount, category)
    proposal = _propose(
        ProposalKind.ADJUSTMENT, actor, reason, amount, wallet=wallet, category=category
    )
    return StaffRequest(proposal=proposal)


def _bet_currency(bet: Bet) -> str:
    if bet.currency or bet.wallet_id is None:
        return bet.currency
    wallet = Wallet.objects.filter(pk=bet.wallet_id).values_list("currency", flat=True).first()
    return wallet or ""


def _require_open(bet: Bet, what: str) -> None:
    # Checked again, under the locks, when the proposal is approved.
    if bet.state != BetState.OPEN or bet.wallet_id is None:
        raise StaffActionRefused(
            f"Only an open bet can be {what}; this one is "
            f"{bet.get_state_display().split(' (')[0].lower()}. Nothing was changed."
        )


def _propose(
    kind: ProposalKind,
    actor: User,
    reason: str,
    amount: Decimal,
    *,
    bet: Bet | None = None,
    wallet: Wallet | None = None,
    category: str = "",
) -> Proposal:
    reason = require_reason(reason)
    if bet is not None:
        assert bet.wallet_id is not None  # checked open by the caller
        wallet = Wallet.objects.get(pk=bet.wallet_id)
        expire_due_proposals(bet=bet)  # an expired one must not hold the bet's one slot
    assert wallet is not None
    now = timezone.now()
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(
                kind=kind,
                player_id=wallet.player_id,
                wallet=wallet,
                bet=bet,
                currency=wallet.currency,
                amount=amount,
                category=category,
                reason=reason,
                proposed_by=actor,
                created_at=now,
                expires_at=now + timedelta(hours=settings.FOUR_EYES_EXPIRY_HOURS),
            )
            _audit(proposal, actor, "proposal_made", reason)
    except IntegrityError as exc:
        waiting = Proposal.objects.filter(bet=bet, status=ProposalStatus.PENDING).first()
        if waiting is None:
            raise
        raise StaffActionRefused(
            f"{waiting.get_kind_display()} of this bet already waits for approval (proposal "
            f"#{waiting.pk} by {waiting.proposed_by}). Nothing was changed."
        ) from exc
    return proposal


def proposal_message(proposal: Proposal) -> str:
    """What staff read after proposing: nothing moved yet, who must act, until when."""
    return (
        f"{proposal.get_kind_display()} of {amount_text(proposal.amount, proposal.currency)} is "
        f"proposed (#{proposal.pk}) and waits for approval: nothing has moved yet. Another "
        f"person with the Approver role must approve it before {when(proposal.expires_at)}."
    )


# --- deciding ----------------------------------------------------------------------------------


def approve_proposal(*, proposal_id: int, approver: User, reason: str) -> StaffRequest:
    """Apply a proposal now, as its approver. Raises ``ApprovalRefused`` when it cannot be:
    the proposer's own, not pending, expired (it is marked so), or no longer applicable to the
    bet or wallet as they are now (it is marked refused at approval; nothing moved)."""
    reason = require_reason(reason)
    _require_approver(approver)
    refusal: ApprovalRefused | None = None
    balance: Decimal | None = None
    try:
        with transaction.atomic():
            proposal = _locked(proposal_id)
            _check_decidable(proposal, approver, "approve")
            if _expire_if_due(proposal):
                refusal = _expired(proposal)
            else:
                try:
                    balance = _apply(proposal, approver, reason)
                except StaffActionRefused as exc:
                    if isinstance(exc.__cause__, OperationalError):
                        raise  # busy now: not final, the whole approval rolls back
                    _decide(proposal, ProposalStatus.FAILED, approver, str(exc))
                    _audit(proposal, approver, "proposal_failed", f"{reason} / refused: {exc}")
                    refusal = ApprovalRefused(f"The approval was refused: {exc}", proposal)
                else:
                    _decide(proposal, ProposalStatus.APPLIED, approver, reason)
                    _audit(proposal, approver, "proposal_approved", reason)
    except OperationalError as exc:
        raise _busy() from exc
    if refusal is not None:
        raise refusal
    return StaffRequest(balance=balance, proposal=proposal)


def reject_proposal(*, proposal_id: int, approver: User, reason: str) -> Proposal:
    """Close a proposal without applying it; the reason is kept with it and in the audit."""
    reason = require_reason(reason)
    _require_approver(approver)
    refusal: ApprovalRefused | None = None
    try:
        with transaction.atomic():
            proposal = _locked(proposal_id)
            _check_decidable(proposal, approver, "reject")
            if _expire_if_due(proposal):
                refusal = _expired(proposal)
            else:
                _decide(proposal, ProposalStatus.REJECTED, approver, reason)
                _audit(proposal, approver, "proposal_rejected", reason)
    except OperationalError as exc:
        raise _busy() from exc
    if refusal is not None:
        raise refusal
    return proposal


def expire_due_proposals(*, bet: Bet | None = None) -> int:
    """Mark pending proposals past their expiry as expired (with their audit rows). Run when
    the queue is read and before a bet gets a new proposal; returns how many."""
    due = Proposal.objects.filter(status=ProposalStatus.PENDING, expires_at__lte=timezone.now())
    if bet is not None:
        due = due.filter(bet=bet)
    expired = 0
    for proposal_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            proposal = Proposal.objects.select_for_update(skip_locked=True).filter(
                pk=proposal_id, status=ProposalStatus.PENDING
            )
            locked = proposal.first()
            if locked is not None and _expire_if_due(locked):
                expired += 1
    return expired


def waiting_proposals() -> QuerySet[Proposal]:
    """Pending and not expired: what the queue and the dashboard count."""
    return Proposal.objects.filter(status=ProposalStatus.PENDING, expires_at__gt=timezone.now())


def _require_approver(approver: User) -> None:
    if not approver.has_perm(APPROVE_PERMISSION):
        raise ApprovalRefused(
            "Approving or rejecting needs the Approver role. Ask an administrator if your "
            "work needs it. Nothing was changed."
        )


def _locked(proposal_id: int) -> Proposal:
    return Proposal.objects.select_for_update().select_related("proposed_by").get(pk=proposal_id)


def _check_decidable(proposal: Proposal, approver: User, verb: str) -> None:
    if proposal.proposed_by_id == approver.pk:
        raise ApprovalRefused(
            f"You proposed this yourself: another person with the Approver role must {verb} "
            "it. Nothing was changed.",
            proposal,
        )
    if proposal.status != ProposalStatus.PENDING:
        by = f" by {proposal.decided_by}" if proposal.decided_by_id else ""
        raise ApprovalRefused(
            f"This proposal is no longer waiting: {proposal.get_status_display().lower()}"
            f"{by} at {when(proposal.decided_at)}. Nothing was changed.",
            proposal,
        )


def _expire_if_due(proposal: Proposal) -> bool:
    if proposal.status != ProposalStatus.PENDING or proposal.expires_at > timezone.now():
        return False
    _decide(proposal, ProposalStatus.EXPIRED, None, "")
    hours = settings.FOUR_EYES_EXPIRY_HOURS
    _audit(proposal, proposal.proposed_by, "proposal_expired", f"Not approved within {hours} h.")
    return True


def _expired(proposal: Proposal) -> ApprovalRefused:
    return ApprovalRefused(
        f"This proposal expired at {when(proposal.expires_at)} without approval. Nothing was "
        "changed; propose it again if it is still needed.",
        proposal,
    )


def _busy() -> StaffActionRefused:
    return StaffActionRefused(
        "The approval did not run: the bet or wallet is being changed right now. Nothing was "
        "changed; try again in a few seconds."
    )


def _apply(proposal: Proposal, approver: User, reason: str) -> Decimal:
    """Run the proposal's action as its proposer asked it, naming the approver in its audit.
    Each action locks the bet (if any), then the wallet, after the proposal's lock."""
    proposer = proposal.proposed_by
    approval = {
        "proposal": proposal.pk,
        "proposed_by": proposer.get_username(),
        "approved_by": approver.get_username(),
        "approval_reason": reason,
    }
    if proposal.kind == ProposalKind.ADJUSTMENT:
        return wallet_staff_adjust(
            wallet_id=proposal.wallet_id,
            amount=proposal.amount,
            category=proposal.category,
            actor=proposer,
            reason=proposal.reason,
            approval=approval,
        )
    assert proposal.bet_id is not None
    if proposal.kind == ProposalKind.CANCEL:
        return bet_staff_cancel(
            bet_id=proposal.bet_id, actor=proposer, reason=proposal.reason, approval=approval
        )
    return bet_staff_resolve(
        bet_id=proposal.bet_id,
        actor=proposer,
        reason=proposal.reason,
        win_amount=proposal.amount,
        approval=approval,
    )


def _decide(proposal: Proposal, status: str, by: User | None, reason: str) -> None:
    proposal.status = status
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.decision_reason = reason
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])


def _audit(proposal: Proposal, actor: User, action: str, reason: str) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        bet_id=proposal.bet_id,
        player_id=proposal.player_id,
        reason=reason,
        before={},
        after=_summary(proposal),
    )


def _summary(proposal: Proposal) -> dict[str, Any]:
    return {
        "proposal": proposal.pk,
        "kind": proposal.kind,
        "status": proposal.status,
        "amount": str(proposal.amount),
        "currency": proposal.currency,
        "category": proposal.category,
        "proposed_by": proposal.proposed_by.get_username(),
        "expires_at": proposal.expires_at.isoformat(),
    }
