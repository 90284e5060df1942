"""The request journal in the admin: read-only for everyone, built for a table that only grows.

Staff find requests by provider, action, bet key, player, outcome and date. Other pages link
here with querystrings, which must keep working:

- a bet's page: ``?provider=<slug>&bet_key=<key>`` (every request that touched the bet);
- a player's page: ``?account_id=<id>``;
- the dashboard: ``?provider=<slug>&outcome=auth_failed&created_at__gte=<when>``.

The journal is the biggest table, so nothing here scans or counts it whole: filters offer
fixed choices (no ``SELECT DISTINCT`` over the table), the search matches exact values only
(indexable), and the paginator stops counting at 1000 rows.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from journal.models import JournalEntry
from providers.base import Rejection
from wallet.admin import BoundedPaginator
from wallet.display import UtcTimesMixin
from wallet.models import Bet
from wallet.services import Outcome

REPLAY_PREFIX = "replay:"  # adapters mark a repeated request's outcome "replay:<outcome>"
RECENT_ROWS_FOR_ACTIONS = 5000


class ProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from providers.registry import adapters

        return [(slug, adapter.name) for slug, adapter in sorted(adapters().items())]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(provider=value) if value else queryset


class OutcomeFilter(admin.SimpleListFilter):
    """Wallet outcomes and refusal kinds; a choice also finds its replays."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        values = [o.value for o in Outcome] + [r.value for r in Rejection]
        current = self.value()
        if current and current not in values:
            values.append(current)
        return [(v, v.replace("_", " ")) for v in values]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(outcome__in=[value, f"{REPLAY_PREFIX}{value}"])


class ActionFilter(admin.SimpleListFilter):
    """The actions seen in the most recent rows (of the chosen provider): a bounded query."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        recent = JournalEntry.objects.exclude(action="")
        provider = request.GET.get("provider")
        if provider:
            recent = recent.filter(provider=provider)
        ids = recent.order_by("-id").values("id")[:RECENT_ROWS_FOR_ACTIONS]
        actions = set(
            JournalEntry.objects.filter(id__in=ids).values_list("action", flat=True).distinct()
        )
        current = self.value()
        if current:
            actions.add(current)
        return [(a, a) for a in sorted(actions, key=_natural)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(action=value) if value else queryset


def _natural(action: str) -> tuple[int, str]:
    """ "4 Cancel BetNSettle" before "10 Settle"; names without a number after them."""
    head = action.split(" ", 1)[0]
    return (int(head), action) if head.isdigit() else (10**9, action)


class ExactValueFilter(admin.SimpleListFilter):
    """A filter for a free-text column (bet key, player) set by a link or the URL.

    It offers no choices of its own (there are millions); when set, it shows its value so staff
    see what narrows the list and can clear it.
    """

    field_name = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{self.field_name: value}) if value else queryset


class BetKeyFilter(ExactValueFilter):
    title = "bet key"
    parameter_name = field_name = "bet_key"


class PlayerFilter(ExactValueFilter):
    title = "player"
    parameter_name = field_name = "account_id"


@admin.register(JournalEntry)
class JournalEntryAdmin(UtcTimesMixin, admin.ModelAdmin):
    """Every provider request and our answer. Nobody adds, edits or deletes a row here.

    The list keeps what support reads to follow a bet (when, who, what, the answer); HTTP
    status, latency and the caller's address are on each request's page.
    """

    list_display = (
        "created_at",
        "provider",
        "action",
        "bet_key",
        "account_id",
        "outcome",
        "answer_code",
    )
    # The list's count reads "13 requests" (the model's plural, "request journal", does not
    # count); ``admin/pagination.html`` uses these names.
    list_count_names = ("request", "requests")
    list_filter = (
        ProviderFilter,
        ActionFilter,
        OutcomeFilter,
        BetKeyFilter,
        PlayerFilter,
        "is_cancel",
        "direction",
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("bet_key", "account_id", "request_id")
    search_help_text = "Exact bet key, player account id or request id."
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 50
    paginator = BoundedPaginator  # the journal is the largest table: never count it whole
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    fieldsets = (
        (
            "Request",
            {
                "fields": (
                    "created_at",
                    "provider",
                    "direction",
                    "action",
                    "path",
                    "request_id",
                    "client_ip",
                    "signature_form",
                    "body_bytes",
                )
            },
        ),
        (
            "About",
            {"fields": ("bet_key", "bet_links", "account_id", "is_cancel")},
        ),
        (
            "Result",
            {"fields": ("outcome", "answer_code", "http_status", "latency_ms", "error")},
        ),
        ("Decrypted payload", {"fields": ("payload_pretty",)}),
        ("Our answer", {"fields": ("answer_pretty",)}),
        ("Headers (secrets redacted)", {"fields": ("headers_pretty",)}),
    )
    readonly_fields = (
        *(f.name for f in JournalEntry._meta.fields),
        "bet_links",
        "answer_code",
        "latency_ms",
        "payload_pretty",
        "answer_pretty",
        "headers_pretty",
    )

    # --- read-only for everyone, superusers included ------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # Named explicitly because other pages link here with these (see the module doc).
        if lookup in {"provider", "bet_key", "account_id", "outcome", "action", "request_id"}:
            return True
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Exact matches only, each on an indexed column: a substring search would scan the
        whole journal. ``provider__in`` lets PostgreSQL use the (provider, bet_key) index."""
        term = search_term.strip()
        if not term:
            return queryset, False
        from providers.registry import adapters

        by_bet = Q(provider__in=sorted(adapters()), bet_key=term)
        return queryset.filter(by_bet | Q(account_id=term) | Q(request_id=term)), False

    # --- columns and detail fields -------------------------------------------------------------

    @admin.display(description="code")
    def answer_code(self, entry: JournalEntry) -> str:
        """The provider-level status in our answer (JDB/VP ``status``, others ``code``...)."""
        answer = entry.answer if isinstance(entry.answer, dict) else {}
        for key in ("status", "code", "error_code", "errorCode"):
            value = answer.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
        return "-"

    @admin.display(description="latency (ms)", ordering="latency_us")
    def latency_ms(self, entry: JournalEntry) -> str:
        return f"{entry.latency_us / 1000:.1f}"

    @admin.display(description="decrypted payload")
    def payload_pretty(self, entry: JournalEntry) -> str:
        return _pre(entry.payload)

    @admin.display(description="our answer")
    def answer_pretty(self, entry: JournalEntry) -> str:
        return _pre(entry.answer)

    @admin.display(description="headers")
    def headers_pretty(self, entry: JournalEntry) -> str:
        return _pre(entry.headers)

    @admin.display(description="bet and its requests")
    def bet_links(self, entry: JournalEntry) -> str:
        if not entry.bet_key:
            return "-"
        journal = reverse("admin:journal_journalentry_changelist")
        query = urlencode({"provider": entry.provider, "bet_key": entry.bet_key})
        every_request = format_html(
            '<a href="{}?{}">every request about this bet</a>', journal, query
        )
        bet_id = (
            Bet.objects.filter(provider=entry.provider, bet_key=entry.bet_key)
            .values_list("id", flat=True)
            .first()
        )
        if bet_id is None:
            return format_html("no bet with this key · {}", every_request)
        try:
            bet_url = reverse("admin:wallet_bet_change", args=[bet_id])
        except NoReverseMatch:
            return every_request
        return format_html('<a href="{}">the bet</a> · {}', bet_url, every_request)


def _pre(value: Any) -> str:
    if value in (None, "", {}, []):
        return "-"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)
