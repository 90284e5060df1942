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

from providers.vp.api_client import VpClient
from providers.vp.cards import selectors
from providers.vp.cards.catalog import fetch_templates
from providers.vp.cards.forms import CancelReasonForm, IssueCardForm
from providers.vp.cards.models import CANCELLABLE, CardStatus, CardStatusChange, OperatorCard
from providers.vp.cards.services import (
    CardInputError,
    CardResult,
    card_cancel,
    card_issue,
    card_refresh_usage,
    card_resend_issue,
)

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
    "bet_amount",
    "free_spin_multiple",
    "lower_multiple",
    "upper_multiple",
    "max_win_amount",
    "expires_at",
)
_STATUS_FIELDS = ("status", "last_vp_code", "last_message", "journal")
_USE_FIELDS = ("spins_played", "win_total", "usage_refreshed_at", "bets_using_card")
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
class OperatorCardAdmin(admin.ModelAdmin):
    list_display = (
        "spin_id",
        "player",
        "game_code",
        "card_type",
        "rounds",
        "bet_amount",
        "status",
        "spins_played",
        "win_total",
        "expires_at",
        "created_at",
        "issued_by",
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_issue_permission(request)  # "add" is the issue form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- computed fields -------------------------------------------------------------------------

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
                    b.win,
                    b.created_at.strftime("%Y-%m-%d %H:%M:%S"),
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
                    c.at.strftime("%Y-%m-%d %H:%M:%S"),
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
            '<table id="card-history"><tr><th>when (UTC)</th><th>from</th><th>to</th>'
            "<th>who</th><th>why</th><th>VP code</th><th>VP logUUID</th></tr>{}</table>",
            rows,
        )

    @admin.display(description="VP calls")
    def journal(self, card: OperatorCard) -> str:
        url = reverse("admin:providers_journalentry_changelist")
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
                data = form.cleaned_data
                try:
                    result = card_issue(
                        player=data["player"],
                        game_code=data["game_code"],
                        card_type=data["card_type"],
                        rounds=data["rounds"],
                        expires_at=data["expires_at"],
                        method=data["method"],
                        bet_amount=data.get("bet_amount"),
                        free_spin_multiple=data.get("free_spin_multiple"),
                        lower_multiple=data.get("lower_multiple"),
                        upper_multiple=data.get("upper_multiple"),
                        max_win_amount=data.get("max_win_amount"),
                        actor=request.user,  # type: ignore[arg-type]
                        reason=data["reason"],
                    )
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

    @admin.action(description="Refresh use and wins from VP's bets", permissions=["view"])
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
