"""The support pages behind a bet: its one-page detail and the three staff money actions.

The views here are UI only: every change goes through ``wallet.services.staff`` (one
transaction with its audit row each). They are mounted by ``wallet.admin.BetAdmin.get_urls``
inside the admin site, so login, staff status and CSRF apply; each action also checks its own
permission, and the buttons are shown only to staff who hold it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from journal.models import JournalEntry
from wallet.display import amount_text, code_words, parse_staff_time, signed_amount_text, when
from wallet.forms import AmountField
from wallet.models import (
    AuditEntry,
    Bet,
    BetKind,
    BetState,
    LedgerEntry,
    Proposal,
    ProposalStatus,
    Wallet,
)
from wallet.money import amount_in_words, currency_places
from wallet.selectors import StuckReason, stuck_after_minutes, stuck_reasons_of
from wallet.services import (
    StaffActionRefused,
    StaffRequest,
    bet_mark_reviewed,
    request_bet_cancel,
    request_bet_resolve,
)
from wallet.services.approvals import approval_rule, needs_approval, proposal_message

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

JOURNAL_ROWS_SHOWN = 50
#: From this amount on, the resolve confirmation also spells the win out in words.
WORDS_FROM = Decimal(100)
DASH = "\u2013"  # shown for "no value"


# --- the actions ------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason (kept in the audit trail)",
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        error_messages={"required": "Write why you are doing this: it is kept in the audit."},
        help_text="For example: provider ticket number, what the player reported, who agreed.",
    )


class ResolveForm(ReasonForm):
    field_order = ["win_amount", "reason"]
    win_amount = AmountField(
        label="Win to credit",
        initial="0",
        help_text=(
            "0 when the bet lost. The amount is added to the player's balance. Digits with one "
            "decimal point or comma (12.50 or 12,50); no thousands separators."
        ),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["win_amount"]
        assert isinstance(field, AmountField)
        field.currency = currency


@dataclass(frozen=True)
class StaffAction:
    """One staff action: who may run it, when, and what it does to the balance."""

    slug: str
    title: str
    button: str
    permission: str
    allowed: Callable[[Bet], bool]
    not_allowed: str
    explanation: str

    def url(self, bet: Bet) -> str:
        return reverse(f"admin:wallet_bet_{self.slug}", args=[bet.pk])


ACTIONS: dict[str, StaffAction] = {
    "cancel": StaffAction(
        slug="cancel",
        title="Cancel and refund",
        button="Cancel the bet and refund the stake",
        permission="wallet.cancel_bet",
        allowed=lambda bet: bet.state == BetState.OPEN,
        not_allowed="Only an open bet can be cancelled and refunded; this one is {state}.",
        explanation=(
            "The stake goes back to the player's balance and the bet becomes cancelled. "
            "If the provider later sends its own cancel, it is answered as done and no money "
            "moves again; if it sends a settle, the settle is refused and flagged."
        ),
    ),
    "resolve": StaffAction(
        slug="resolve",
        title="Resolve as settled",
        button="Resolve the bet as settled",
        permission="wallet.resolve_bet",
        allowed=lambda bet: bet.state == BetState.OPEN,
        not_allowed="Only an open bet can be resolved as settled; this one is {state}.",
        explanation=(
            "The bet is closed as settled: the stake stays taken and the win you enter "
            "(0 if the bet lost) is credited. A later settle from the provider is refused "
            "and flagged, so agree the result with the provider first."
        ),
    ),
    "review": StaffAction(
        slug="review",
        title="Mark reviewed",
        button="Mark the bet as reviewed",
        permission="wallet.review_bet",
        allowed=lambda bet: bet.needs_review,
        not_allowed="This bet is not flagged for review (it is {state}).",
        explanation=(
            "Clears the review flag after you have looked at the bet. No money moves; "
            "the original flag reason is kept in the bet's details and in the audit."
        ),
    ),
}


def _state_text(bet: Bet) -> str:
    return bet.get_state_display().split(" (")[0].lower()


def available_actions(bet: Bet, user: Any) -> list[StaffAction]:
    """The actions this user may run on this bet now (the buttons the page shows)."""
    return [a for a in ACTIONS.values() if user.has_perm(a.permission) and a.allowed(bet)]


def _bet_url(bet: Bet) -> str:
    return reverse("admin:wallet_bet_change", args=[bet.pk])


def _balance_effect(bet: Bet, delta: Decimal) -> dict[str, str]:
    if bet.wallet_id is None:
        return {}
    wallet = Wallet.objects.filter(pk=bet.wallet_id).first()
    if wallet is None:
        return {}
    return {
        "before": amount_text(wallet.balance, wallet.currency),
        "change": signed_amount_text(delta, wallet.currency),
        "after": amount_text(wallet.balance + delta, wallet.currency),
    }


def staff_action_view(
    model_admin: ModelAdmin[Bet], request: HttpRequest, object_id: str, slug: str
) -> HttpResponse:
    """Confirmation page (GET) and execution (POST) of one staff action on one bet."""
    action = ACTIONS[slug]
    bet = model_admin.get_object(request, unquote(object_id))
    if bet is None:
        raise Http404("No such bet.")
    if not (
        model_admin.has_view_permission(request, bet) and request.user.has_perm(action.permission)
    ):
        raise PermissionDenied
    if not action.allowed(bet):
        messages.error(
            request,
            f"{action.title} is not possible: "
            + action.not_allowed.format(state=_state_text(bet))
            + " Nothing was changed.",
        )
        return HttpResponseRedirect(_bet_url(bet))

    form = (
        ResolveForm(request.POST or None, currency=bet.currency)
        if slug == "resolve"
        else ReasonForm(request.POST or None)
    )
    confirming = request.method == "POST" and "confirm" in request.POST
    if request.method == "POST" and form.is_valid() and (confirming or slug != "resolve"):
        return _run(request, action, bet, form.cleaned_data)
    # Resolve asks for the win first, then shows its effect before the final confirmation.
    previewing = slug == "resolve" and request.method == "POST" and form.is_valid()
    win = form.cleaned_data.get("win_amount", Decimal(0)) if previewing else Decimal(0)
    delta = {"cancel": bet.stake, "resolve": win, "review": Decimal(0)}[slug]
    # Whether confirming applies the action or makes a proposal for a second person (four-eyes).
    held = slug == "cancel" or previewing
    proposing = held and needs_approval(delta, bet.currency)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"{action.title}: {bet}",
        "action": action,
        "bet": bet,
        "bet_url": _bet_url(bet),
        "summary": bet_summary(bet),
        "form": form,
        "previewing": previewing,
        "needs_preview": slug == "resolve" and not previewing,
        "effect": _balance_effect(bet, delta) if slug != "review" else {},
        "win": amount_text(win, bet.currency),
        "win_in_words": amount_in_words(win, bet.currency) if win >= WORDS_FROM else "",
        # The confirmation posts the win back as typed text in the currency's decimals.
        "win_typed": f"{win:.{currency_places(bet.currency)}f}",
        "proposing": proposing,
        "approval_rule": approval_rule(bet.currency) if slug != "review" else "",
    }
    return TemplateResponse(request, "admin/wallet/bet/staff_action.html", context)


def _run(request: HttpRequest, action: StaffAction, bet: Bet, data: dict[str, Any]) -> HttpResponse:
    reason = data["reason"]
    done = StaffRequest()
    try:
        if action.slug == "cancel":
            done = request_bet_cancel(bet_id=bet.pk, actor=request.user, reason=reason)  # type: ignore[arg-type]
        elif action.slug == "resolve":
            done = request_bet_resolve(
                bet_id=bet.pk,
                actor=request.user,  # type: ignore[arg-type]
                reason=reason,
                win_amount=data["win_amount"],
            )
        else:
            bet_mark_reviewed(bet_id=bet.pk, actor=request.user, reason=reason)  # type: ignore[arg-type]
    except StaffActionRefused as refusal:
        messages.error(request, f"{action.title} refused: {refusal}")
        return HttpResponseRedirect(_bet_url(bet))
    if done.proposal is not None:
        messages.warning(request, proposal_message(done.proposal))
        return HttpResponseRedirect(_bet_url(bet))
    audit = AuditEntry.objects.filter(bet=bet).order_by("-id").first()
    messages.success(request, _done_message(action, bet, audit))
    return HttpResponseRedirect(_bet_url(bet))


def _done_message(action: StaffAction, bet: Bet, audit: AuditEntry | None) -> str:
    bet.refresh_from_db()
    text = f"{action.title} done for {bet}."
    if audit is not None and audit.after.get("balance") is not None:
        before, after = audit.before.get("balance"), audit.after.get("balance")
        player = bet.player.account_id if bet.player else "the player"
        was, now = amount_text(before, bet.currency), amount_text(after, bet.currency)
        text += f" {player}'s balance: {was} → {now}."
    return text + " The audit trail records it."


# --- the bet page -------------------------------------------------------------------------------


def bet_summary(bet: Bet) -> list[tuple[str, str]]:
    rows = [
        ("Provider", bet.get_provider_display()),
        ("Bet key", bet.bet_key),
        ("Player", bet.player.account_id if bet.player else f"{DASH} (never arrived)"),
        ("Currency", bet.currency or DASH),
        ("Stake", amount_text(bet.stake, bet.currency)),
        ("Win credited", amount_text(bet.win, bet.currency)),
        ("Kind", bet.get_kind_display()),
        ("State", bet.get_state_display()),
    ]
    if bet.wallet_id:
        balance = Wallet.objects.values_list("balance", flat=True).get(pk=bet.wallet_id)
        rows.append(("Player's balance now", amount_text(balance, bet.currency)))
    return rows


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    source: str
    what: str
    detail: str = ""


def _ledger_text(entry: LedgerEntry) -> str:
    names = {
        "stake": "Stake taken",
        "win": "Win credited",
        "refund": "Stake refunded",
        "reversal": "Round reversed",
        "staff_adjustment": "Staff adjustment",
        "deposit": "Deposit",
        "withdrawal": "Withdrawal",
    }
    currency = entry.wallet.currency if entry.wallet_id else ""
    return f"{names.get(entry.kind, entry.kind)} {signed_amount_text(entry.amount, currency)}"


def _journal_text(entry: JournalEntry) -> str:
    kind = "cancel request" if entry.is_cancel else "request"
    return f"Provider {kind} {entry.action or '?'}: answered {entry.outcome or '?'}"


def _audit_text(entry: AuditEntry) -> str:
    return f"Staff: {action_label(entry.action)} by {entry.actor}"


def bet_timeline(
    bet: Bet,
    ledger: list[LedgerEntry],
    journal: list[JournalEntry],
    audit: list[AuditEntry],
) -> list[TimelineEvent]:
    """The bet's history, oldest first, from its timestamps and every row that touched it."""
    first = (
        "A cancel arrived before the bet: tombstone recorded"
        if bet.state == BetState.TOMBSTONE
        else f"Bet recorded ({bet.get_kind_display().lower()})"
    )
    events = [TimelineEvent(bet.created_at, "bet", first)]
    if bet.late_arrival_at:
        events.append(
            TimelineEvent(
                bet.late_arrival_at,
                "bet",
                "The bet arrived after its cancel and was refused (no money moved)",
            )
        )
    events += [TimelineEvent(e.created_at, "ledger", _ledger_text(e), e.reason) for e in ledger]
    events += [TimelineEvent(e.created_at, "journal", _journal_text(e), e.error) for e in journal]
    events += [TimelineEvent(e.created_at, "staff", _audit_text(e), e.reason) for e in audit]
    return sorted(events, key=lambda event: event.at)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _journal_url(bet: Bet) -> str | None:
    try:
        base = reverse("admin:journal_journalentry_changelist")
    except NoReverseMatch:
        return None
    return f"{base}?{urlencode({'provider': bet.provider, 'bet_key': bet.bet_key})}"


ACTION_LABELS = {
    "cancel_and_refund": "Cancel and refund",
    "resolve_as_settled": "Resolve as settled",
    "mark_reviewed": "Mark reviewed",
    "staff_adjustment": "Manual adjustment",
    "proposal_made": "Proposed for approval",
    "proposal_approved": "Proposal approved and applied",
    "proposal_rejected": "Proposal rejected",
    "proposal_failed": "Approval refused: no longer applies",
    "proposal_expired": "Proposal expired",
}


def action_label(code: str) -> str:
    """A staff action's name in words, also for a code this list does not know yet."""
    return ACTION_LABELS.get(code) or code_words(code)


def _change_text(key: str, value: Any, currency: str) -> str:
    if key in ("balance", "win"):
        return amount_text(value, currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "state" and value in BetState.values:
        return BetState(value).label.split(" (")[0].lower()
    return DASH if value is None else str(value)


def audit_changes(entry: AuditEntry, currency: str) -> list[tuple[str, str, str]]:
    """(what, before, after) for each value the action changed."""
    changed = []
    for key in ("state", "balance", "win", "needs_review"):
        before, after = entry.before.get(key), entry.after.get(key)
        if before == after:
            continue
        changed.append(
            (
                key.replace("_", " "),
                _change_text(key, before, currency),
                _change_text(key, after, currency),
            )
        )
    return changed


def bet_detail_context(bet: Bet, request: HttpRequest) -> dict[str, Any]:
    """Everything the bet page shows, in one dict."""
    ledger = list(
        LedgerEntry.objects.filter(bet=bet).select_related("staff_user", "wallet").order_by("id")
    )
    journal_rows = list(
        JournalEntry.objects.filter(provider=bet.provider, bet_key=bet.bet_key).order_by(
            "-created_at", "-id"
        )[: JOURNAL_ROWS_SHOWN + 1]
    )
    journal_more = len(journal_rows) > JOURNAL_ROWS_SHOWN
    journal_rows = journal_rows[:JOURNAL_ROWS_SHOWN]
    audit = list(AuditEntry.objects.filter(bet=bet).select_related("actor").order_by("id"))
    reasons = stuck_reasons_of(bet)
    user = request.user
    return {
        "bet": bet,
        "summary": bet_summary(bet),
        "stuck_reasons": reasons,
        "stuck_minutes": stuck_after_minutes(bet.provider),
        "timeline": bet_timeline(bet, ledger, list(reversed(journal_rows)), audit),
        "ledger": [
            {
                "entry": e,
                "amount": signed_amount_text(e.amount, bet.currency),
                "balance_after": amount_text(e.balance_after, bet.currency),
            }
            for e in ledger
        ],
        "journal": [
            {"entry": e, "payload": _pretty(e.payload), "answer": _pretty(e.answer)}
            for e in journal_rows
        ],
        "journal_more": journal_more,
        "journal_url": _journal_url(bet),
        "audit": [
            {
                "entry": e,
                "what": action_label(e.action),
                "changes": audit_changes(e, bet.currency),
            }
            for e in audit
        ],
        "actions": available_actions(bet, user),
        "waiting": [
            {"proposal": p, "amount": amount_text(p.amount, p.currency)}
            for p in Proposal.objects.filter(bet=bet, status=ProposalStatus.PENDING)
            .select_related("proposed_by")
            .order_by("id")
        ],
        "player_url": (
            reverse("admin:wallet_player_change", args=[bet.player_id]) if bet.player_id else None
        ),
        "round_url": (
            reverse("admin:wallet_bet_changelist") + "?" + urlencode({"q": bet.round_id})
            if bet.round_id
            else None
        ),
        "no_action_note": _no_action_note(bet, user, reasons),
        "is_bet_and_settle": bet.kind == BetKind.BET_AND_SETTLE,
        "cancel_retry": StuckReason.CANCEL_RETRY in reasons,
    }


def _no_action_note(bet: Bet, user: Any, reasons: list[StuckReason]) -> str:
    if available_actions(bet, user):
        return ""
    if not any(user.has_perm(a.permission) for a in ACTIONS.values()):
        return "You can view this bet; changing it needs the Support role."
    if reasons:
        return (
            "No staff action applies to a bet in this state. It clears when the provider "
            "sends its next request for it; if it does not, contact the provider."
        )
    return f"No staff action applies: the bet is {_state_text(bet)}."


# --- the player page ----------------------------------------------------------------------------

PLAYER_ROWS_SHOWN = 20


def player_activity_context(player_id: int) -> dict[str, Any]:
    """Wallets, open bets and recent activity of one player (bounded lists, newest first)."""
    from wallet.models import Player

    player = Player.objects.get(pk=player_id)
    wallets = list(Wallet.objects.filter(player=player).order_by("currency"))
    bets = Bet.objects.filter(player=player).order_by("-created_at", "-id")
    open_bets = list(bets.filter(state=BetState.OPEN)[: PLAYER_ROWS_SHOWN + 1])
    ledger = list(
        LedgerEntry.objects.filter(wallet__in=wallets)
        .select_related("bet", "wallet")
        .order_by("-id")[:PLAYER_ROWS_SHOWN]
    )
    journal = list(
        JournalEntry.objects.filter(account_id=player.account_id).order_by("-created_at", "-id")[
            :PLAYER_ROWS_SHOWN
        ]
    )
    bets_url = reverse("admin:wallet_bet_changelist") + "?" + urlencode({"q": player.account_id})
    return {
        "player_wallets": [
            {"wallet": w, "balance": amount_text(w.balance, w.currency)} for w in wallets
        ],
        "player_open_bets": [
            {"bet": b, "stake": amount_text(b.stake, b.currency)}
            for b in open_bets[:PLAYER_ROWS_SHOWN]
        ],
        "player_open_more": len(open_bets) > PLAYER_ROWS_SHOWN,
        "player_recent_bets": [
            {
                "bet": b,
                "stake": amount_text(b.stake, b.currency),
                "win": amount_text(b.win, b.currency),
            }
            for b in bets[:PLAYER_ROWS_SHOWN]
        ],
        "player_ledger": [
            {
                "entry": e,
                "amount": signed_amount_text(e.amount, e.wallet.currency),
                "balance_after": amount_text(e.balance_after, e.wallet.currency),
            }
            for e in ledger
        ],
        "player_journal": journal,
        "player_audit": [
            {"entry": e, "what": action_label(e.action)}
            for e in AuditEntry.objects.filter(player=player)
            .select_related("actor", "bet")
            .order_by("-id")[:PLAYER_ROWS_SHOWN]
        ],
        "player_bets_url": bets_url,
        "player_journal_url": _player_journal_url(player.account_id),
    }


def _player_journal_url(account_id: str) -> str | None:
    try:
        base = reverse("admin:journal_journalentry_changelist")
    except NoReverseMatch:
        return None
    return f"{base}?{urlencode({'account_id': account_id})}"


def balance_at_context(player_id: int, typed: str) -> dict[str, Any]:
    """The player page's "balance at a moment": each wallet's balance then, from the ledger."""
    from wallet.balances import balances_as_of

    context: dict[str, Any] = {"balance_at_typed": typed}
    if not typed.strip():
        return context
    try:
        at = parse_staff_time(typed)
    except ValueError as exc:
        context["balance_at_error"] = f"{exc}."
        return context
    # A typed moment has whole seconds: it means through the end of that second.
    through = at.replace(microsecond=999_999)
    wallets = Wallet.objects.filter(player_id=player_id).order_by("currency")
    context["balance_at"] = at
    context["balances_then"] = [
        {
            "currency": row.wallet.currency,
            "balance": amount_text(row.balance, row.wallet.currency),
            "entry_id": row.entry_id,
            "entry_at": when(row.entry_at) if row.entry_at else "no movement yet",
        }
        for row in balances_as_of(wallets, through)
    ]
    return context
