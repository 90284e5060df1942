"""Admin for support staff: list and filter cards, issue one, cancel one or many, re-send.

Seeing cards needs ``view_operatorcard``; the issue form and the "re-send" action need
``issue_operatorcard``; the cancel action and button need ``cancel_operatorcard``. Nothing
here changes a card itself: every button calls ``providers.vp.cards.services``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from providers.vp.api_client import VpClient, VpOutcome
from providers.vp.cards import selectors
from providers.vp.cards.catalog import fetch_templates
from providers.vp.cards.forms import CancelReasonForm, IssueCardForm
from providers.vp.cards.models import CANCELLABLE, CardStatus, CardStatusChange, OperatorCard
from providers.vp.cards.services import (
    CardInputError,
    CardResult,
    card_cancel,
    card_refresh_usage,
    card_resend_issue,
)
from wallet.display import DASH, UtcTimesMixin, amount_text, when

_LEVELS = {
    "success": messages.SUCCESS,
    "info": messages.INFO,
    "warning": messages.WARNING,
    "error": messages.ERROR,
}
_BUSY = "{}: the card is being changed by another request; nothing was sent. Try again shortly."


_CARD_FIELDS = (
    "spin_id",
    "vp_item_id",
    "player",
    "currency",
    "game_code",
    "card_type",
    "method",
    "rounds",
    "bet_shown",
    "free_spin_multiple",
    "lower_multiple",
    "upper_multiple",
    "max_win_shown",
    "expires_at",
)
_STATUS_FIELDS = ("status", "last_message_shown", "last_vp_code", "last_message_raw", "journal")

#: What VP's last answer means for support, by VP code (``VpCode``) ...
_VP_CODE_SENTENCES: dict[int, str] = {
    0: "VP accepted the last request.",
    4: "VP says this card does not exist there or is already finished (cancelled or used up).",
    5: "VP does not know this game.",
    7: "VP had an internal error. Try again later; if it keeps happening, contact VP.",
    8: "VP does not know this player.",
    10: "VP says our operator account is unknown or blocked. Tell the engineers.",
    11: "VP refused the details of the request. Tell the engineers.",
    20: "The player's wallet at VP was busy (a game in progress). Try again in a few minutes.",
    77: "Too many requests to VP at once. Try again in a minute.",
    78: "VP already has a card with this spin id.",
    83: "VP refused our credentials. Tell the engineers.",
    84: "VP could not read our request (keys differ). Tell the engineers.",
    85: "VP's keys for our account are not set up. Tell the engineers.",
    86: "VP does not allow this game for our account.",
}
#: ... or, when VP gave no code, by what went wrong before it answered.
_OUTCOME_SENTENCES: dict[str, str] = {
    VpOutcome.TIMEOUT: "VP did not answer in time. The request may have reached VP.",
    VpOutcome.CONNECTION_LOST: "The connection to VP broke. The request may have reached VP.",
    VpOutcome.UNREACHABLE: "VP could not be reached. Nothing was sent; try again later.",
    VpOutcome.BAD_ANSWER: "VP's answer could not be read. Tell the engineers if it repeats.",
    VpOutcome.NOT_CONFIGURED: "VP is not set up on this server. Nothing was sent.",
    VpOutcome.UNKNOWN_CODE: "VP answered with a code we do not know. Tell the engineers.",
}


def card_message_text(card: OperatorCard) -> str:
    """VP's last answer about the card as a sentence; the raw text stays on the card's page."""
    if not card.last_message and card.last_vp_code is None:
        return "No answer from VP yet."
    if card.last_vp_code is not None:
        return _VP_CODE_SENTENCES.get(
            card.last_vp_code, f"VP answered code {card.last_vp_code}. Tell the engineers."
        )
    outcome = card.last_message.split(":", 1)[0].strip()
    return _OUTCOME_SENTENCES.get(outcome, "The last call to VP failed. Tell the engineers.")


_USE_FIELDS = ("spins_played", "win_total_shown", "usage_refreshed_at", "bets_using_card")
_WHO_FIELDS = (
    "issued_by",
    "issue_reason",
    "created_at",
    "cancel_requested_by",
    "cancel_requested_at",
    "cancel_reason",
    "cancel_attempts",
)


class PlayerAccountFilter(admin.SimpleListFilter):
    """A text box: the cards of one player, by account id (a list of every player would not
    fit on the page)."""

    title = "player"
    parameter_name = "player"
    template = "admin/operator_cards/input_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("", "")]  # one dummy entry, so that the filter is shown

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = (self.value() or "").strip()
        return queryset.filter(player__account_id=value) if value else queryset

    def choices(self, changelist: Any) -> Iterator[Any]:
        others = [
            (key, value)
            for key, values in changelist.get_filters_params().items()
            if key != self.parameter_name
            for value in (values if isinstance(values, list) else [values])
        ]
        yield {"query_parts": others, "value": self.value() or ""}


@admin.register(OperatorCard)
class OperatorCardAdmin(UtcTimesMixin, admin.ModelAdmin):
    # What support reads to answer a player; who issued it, when, and VP's ids are on the page.
    list_display = (
        "spin_id",
        "player",
        "game_code",
        "card_type",
        "rounds",
        "bet_shown",
        "status",
        "use_shown",
        "expires_at",
    )
    list_filter = (
        "status",
        PlayerAccountFilter,
        "game_code",
        "card_type",
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("=spin_id", "=player__account_id", "=vp_item_id")
    list_select_related = ("player", "issued_by")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["cancel_cards", "resend_issue", "refresh_usage"]
    fieldsets = (
        ("Card", {"fields": _CARD_FIELDS}),
        ("Status", {"fields": _STATUS_FIELDS}),
        ("Use (from VP's bets)", {"fields": _USE_FIELDS}),
        ("Who and why", {"fields": _WHO_FIELDS}),
        ("Status history", {"fields": ("history",)}),
    )
    readonly_fields = _CARD_FIELDS + _STATUS_FIELDS + _USE_FIELDS + _WHO_FIELDS + ("history",)

    # --- permissions ---------------------------------------------------------------------------

    def has_issue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("operator_cards.issue_operatorcard")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("operator_cards.cancel_operatorcard")

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        # Refreshing may change a card's status, so it is for the roles that change cards
        # (issue or cancel), not for Read-only or Finance, who may only look.
        return self.has_issue_permission(request) or self.has_cancel_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_issue_permission(request)  # "add" is the issue form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- computed fields -------------------------------------------------------------------------

    @admin.display(description="bet per spin", ordering="bet_amount")
    def bet_shown(self, card: OperatorCard) -> str:
        return amount_text(card.bet_amount, card.currency) if card.bet_amount is not None else DASH

    @admin.display(description="max win")
    def max_win_shown(self, card: OperatorCard) -> str:
        if card.max_win_amount is None:
            return DASH
        return amount_text(card.max_win_amount, card.currency)

    @admin.display(description="win total")
    def win_total_shown(self, card: OperatorCard) -> str:
        return amount_text(card.win_total, card.currency)

    @admin.display(description="use", ordering="spins_played")
    def use_shown(self, card: OperatorCard) -> str:
        won = amount_text(card.win_total, card.currency)
        return f"{card.spins_played} of {card.rounds} spins, won {won}"

    @admin.display(description="last message")
    def last_message_shown(self, card: OperatorCard) -> str:
        return card_message_text(card)

    @admin.display(description="VP's last answer, as received (for engineers)")
    def last_message_raw(self, card: OperatorCard) -> str:
        if not card.last_message:
            return DASH
        return format_html('<span class="vp-raw">{}</span>', card.last_message)

    @admin.display(description="VP bets that used it")
    def bets_using_card(self, card: OperatorCard) -> str:
        bets = selectors.bets_using_card(card)
        if not bets:
            return "none yet"
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:wallet_bet_change", args=[b.pk]),
                    b.bet_key,
                    b.get_state_display(),
                    amount_text(b.win, b.currency),
                    when(b.created_at),
                )
                for b in bets
            ),
        )
        return format_html(
            "<table><tr><th>bet</th><th>state</th><th>win</th><th>at</th></tr>{}</table>", rows
        )

    @admin.display(description="changes")
    def history(self, card: OperatorCard) -> str:
        changes = CardStatusChange.objects.filter(card=card).select_related("actor")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    when(c.at),
                    c.get_from_status_display() or "-",
                    c.get_to_status_display(),
                    c.actor or "system",
                    c.reason,
                    "" if c.vp_code is None else c.vp_code,
                    c.vp_log_uuid,
                )
                for c in changes
            ),
        )
        return format_html(
            '<table id="card-history"><tr><th>when</th><th>from</th><th>to</th>'
            "<th>who</th><th>why</th><th>VP code</th><th>VP logUUID</th></tr>{}</table>",
            rows,
        )

    @admin.display(description="VP calls")
    def journal(self, card: OperatorCard) -> str:
        url = reverse("admin:journal_journalentry_changelist")
        return format_html(
            '<a href="{}?q={}">every call to VP about this card</a>', url, card.spin_id
        )

    # --- pages -----------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="operator_cards_operatorcard_cancel",
            )
        ]
        return own + super().get_urls()  # type: ignore[operator]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The issue form. VP's templates are fetched on every display and submit, so a card
        is only ever checked against what VP offers now."""
        if not self.has_issue_permission(request):
            raise PermissionDenied
        templates, reply = fetch_templates()
        form = None
        if not reply.ok:
            self.message_user(
                request,
                f"VP's card list could not be read ({reply.outcome.value}: {reply.message}); "
                "no card can be issued until it can. Nothing was sent.",
                messages.ERROR,
            )
        else:
            form = IssueCardForm(request.POST or None, templates=templates)
            if request.method == "POST" and form.is_valid():
                try:
                    result = form.issue(request.user)
                except CardInputError as exc:
                    form.add_error(None, str(exc))
                else:
                    self._tell(request, result)
                    return HttpResponseRedirect(
                        reverse("admin:operator_cards_operatorcard_change", args=[result.card.pk])
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": "Issue an operator card",
            "opts": self.opts,
            "form": form,
            "templates": [t for t in templates if t.available],
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/operator_cards/operatorcard/issue.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        card = OperatorCard.objects.filter(pk=object_id).only("status").first()
        extra = dict(extra_context or {})
        if card is not None and self.has_cancel_permission(request):
            extra["show_cancel_card"] = card.status in CANCELLABLE
            extra["cancel_card_url"] = reverse(
                "admin:operator_cards_operatorcard_cancel", args=[card.pk]
            )
        return super().change_view(request, object_id, form_url, extra)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Cancel one card from its page: the same confirmation as the list action."""
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        card = get_object_or_404(OperatorCard.objects.select_related("player"), pk=object_id)
        response = self._cancel_flow(request, [card], via_action=False)
        if response is not None:
            return response
        return HttpResponseRedirect(
            reverse("admin:operator_cards_operatorcard_change", args=[card.pk])
        )

    # --- actions ---------------------------------------------------------------------------------

    @admin.action(description="Cancel selected cards at VP…", permissions=["cancel"])
    def cancel_cards(self, request: HttpRequest, queryset: QuerySet[OperatorCard]) -> Any:
        return self._cancel_flow(request, list(queryset.select_related("player")), via_action=True)

    @admin.action(description="Re-send pending issue to VP", permissions=["issue"])
    def resend_issue(self, request: HttpRequest, queryset: QuerySet[OperatorCard]) -> None:
        client = VpClient()
        for card in queryset:
            try:
                result = card_resend_issue(
                    card_id=card.pk,
                    actor=request.user,  # type: ignore[arg-type]
                    client=client,
                )
            except OperationalError:
                self.message_user(request, _BUSY.format(card.spin_id), messages.WARNING)
                continue
            self._tell(request, result)

    @admin.action(description="Refresh use and wins from VP's bets", permissions=["refresh"])
    def refresh_usage(self, request: HttpRequest, queryset: QuerySet[OperatorCard]) -> None:
        changed = card_refresh_usage(cards=queryset.select_related("player"))
        self.message_user(request, f"Use refreshed; {changed} card(s) changed status.")

    def _cancel_flow(
        self, request: HttpRequest, cards: list[OperatorCard], *, via_action: bool
    ) -> HttpResponse | None:
        """Show the confirmation page, or (confirmed, with a reason) cancel and report."""
        confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
        form = CancelReasonForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            client = VpClient()  # one connection to VP for the whole batch
            for card in cards:
                try:
                    result = card_cancel(
                        card_id=card.pk,
                        actor=request.user,  # type: ignore[arg-type]
                        reason=form.cleaned_data["reason"],
                        client=client,
                    )
                except OperationalError:
                    self.message_user(request, _BUSY.format(card.spin_id), messages.WARNING)
                    continue
                self._tell(request, result)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel operator cards at VP",
            "opts": self.opts,
            "cards": cards,
            "cancellable": [c for c in cards if c.status in CANCELLABLE],
            "form": form,
            "via_action": via_action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancelled_status": CardStatus.CANCELLED,
        }
        return TemplateResponse(
            request, "admin/operator_cards/operatorcard/cancel_confirmation.html", context
        )

    def _tell(self, request: HttpRequest, result: CardResult) -> None:
        self.message_user(request, result.message, _LEVELS[result.level])
