"""The approvals queue's pages: one proposal with its effect, and its approve and reject forms.

UI only: deciding goes through ``wallet.services.approvals`` (one transaction with its audit
rows). Mounted by ``wallet.admin.ProposalAdmin`` inside the admin site, so login, staff status
and CSRF apply; deciding also needs the Approver role's permission, checked here and again by
the service, which also refuses the proposer's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from wallet.display import amount_text, signed_amount_text, when
from wallet.models import Proposal, ProposalKind, ProposalStatus, Wallet
from wallet.services import (
    StaffActionRefused,
    approve_proposal,
    expire_due_proposals,
    reject_proposal,
)
from wallet.services.approvals import APPROVE_PERMISSION
from wallet.support_views import ReasonForm

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

NOT_AN_APPROVER = (
    "Approving or rejecting a staff money action needs the Approver role. Ask an administrator "
    "if your work needs it."
)


def proposal_context(proposal: Proposal, user: Any) -> dict[str, Any]:
    """What the proposal's page shows: the action in words, its effect now, who may decide."""
    wallet = Wallet.objects.get(pk=proposal.wallet_id)
    change = proposal.amount  # signed: a refund or a win credits, an adjustment either way
    waiting = proposal.status == ProposalStatus.PENDING and proposal.expires_at > timezone.now()
    own = proposal.proposed_by_id == user.pk
    rows = [
        ("Action", proposal.get_kind_display()),
        ("Player", proposal.player.account_id),
        ("Amount", amount_text(abs(proposal.amount), proposal.currency)),
    ]
    if proposal.kind == ProposalKind.ADJUSTMENT:
        rows.append(("Credit or debit", "Credit" if proposal.amount > 0 else "Debit"))
        rows.append(("Category", proposal.get_category_display()))
    if proposal.bet_id:
        rows.append(("Bet", str(proposal.bet)))
    rows += [
        ("Proposed by", str(proposal.proposed_by)),
        ("Proposed at", when(proposal.created_at)),
        ("Expires at", when(proposal.expires_at)),
        ("Status", proposal.get_status_display()),
    ]
    if proposal.decided_at:
        rows.append(("Decided at", when(proposal.decided_at)))
    if proposal.decided_by_id:
        rows.append(("Decided by", str(proposal.decided_by)))
    return {
        "proposal": proposal,
        "rows": rows,
        "waiting": waiting,
        "own": own,
        "can_decide": waiting and not own and user.has_perm(APPROVE_PERMISSION),
        "is_approver": user.has_perm(APPROVE_PERMISSION),
        "effect": {
            "before": amount_text(wallet.balance, wallet.currency),
            "change": signed_amount_text(change, wallet.currency),
            "after": amount_text(wallet.balance + change, wallet.currency),
        },
        "bet_url": (
            reverse("admin:wallet_bet_change", args=[proposal.bet_id]) if proposal.bet_id else None
        ),
        "player_url": reverse("admin:wallet_player_change", args=[proposal.player_id]),
    }


def queue_url() -> str:
    return reverse("admin:wallet_proposal_changelist")


def proposal_url(proposal: Proposal) -> str:
    return reverse("admin:wallet_proposal_change", args=[proposal.pk])


def proposal_page(
    model_admin: ModelAdmin[Proposal], request: HttpRequest, object_id: str
) -> HttpResponse:
    expire_due_proposals()  # a proposal past its time shows as expired, with its audit row
    proposal = _proposal(model_admin, request, object_id)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"{proposal.get_kind_display()}: proposal #{proposal.pk}",
        "approve_form": ReasonForm(prefix="approve"),
        "reject_form": ReasonForm(prefix="reject"),
        **proposal_context(proposal, request.user),
    }
    return TemplateResponse(request, "admin/wallet/proposal/detail.html", context)


def decide_view(
    model_admin: ModelAdmin[Proposal], request: HttpRequest, object_id: str, verb: str
) -> HttpResponse:
    """POST only: approve or reject with a reason, then back to the queue (or the page)."""
    proposal = _proposal(model_admin, request, object_id)
    if request.method != "POST":
        return HttpResponseRedirect(proposal_url(proposal))
    if not request.user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied(NOT_AN_APPROVER)
    form = ReasonForm(request.POST, prefix=verb)
    if not form.is_valid():
        messages.error(request, "Write why you decide so: the reason is kept in the audit.")
        return HttpResponseRedirect(proposal_url(proposal))
    reason = form.cleaned_data["reason"]
    try:
        if verb == "approve":
            done = approve_proposal(proposal_id=proposal.pk, approver=request.user, reason=reason)  # type: ignore[arg-type]
            shown = amount_text(done.balance, proposal.currency) if done.balance is not None else ""
            messages.success(
                request,
                f"Approved and applied: {proposal}. "
                + (f"The balance is now {shown}. " if shown else "")
                + "The audit trail records it.",
            )
        else:
            reject_proposal(proposal_id=proposal.pk, approver=request.user, reason=reason)  # type: ignore[arg-type]
            messages.success(request, f"Rejected: {proposal}. Nothing moved.")
    except StaffActionRefused as refusal:
        messages.error(request, str(refusal))
        return HttpResponseRedirect(proposal_url(proposal))
    return HttpResponseRedirect(queue_url())


def _proposal(model_admin: ModelAdmin[Proposal], request: HttpRequest, object_id: str) -> Proposal:
    proposal = model_admin.get_object(request, unquote(object_id))
    if proposal is None:
        raise Http404("No such proposal.")
    if not model_admin.has_view_permission(request, proposal):
        raise PermissionDenied
    return proposal
