"""Admin pages for players, wallets, the ledger, bets, sessions and the staff audit.

Money rows are read-only for everyone: no add, change or delete, even for superusers. Money
moves only through the staff actions on a bet's page (``wallet.support_views``), which call
``wallet.services.staff`` and check their own permission.

Lists over big tables never count them whole: ``BoundedPaginator`` counts up to
``COUNT_LIMIT`` rows and the page says "1000+" beyond (``show_full_result_count`` is off too).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import ShowFacets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from wallet.adjustment_views import PERMISSION as ADJUST_PERMISSION
from wallet.adjustment_views import adjustment_view
from wallet.approval_views import decide_view, proposal_page
from wallet.display import DASH, UtcTimesMixin, amount_text, when
from wallet.models import (
    AuditEntry,
    Bet,
    LedgerEntry,
    Player,
    PlayerSession,
    Proposal,
    ProposalStatus,
    Provider,
    StaffLoginFailure,
    Wallet,
)
from wallet.selectors import COUNT_LIMIT, StuckReason, bounded_count, stuck_q
from wallet.services import expire_due_proposals
from wallet.support_views import (
    action_label,
    audit_changes,
    balance_at_context,
    bet_detail_context,
    player_activity_context,
    staff_action_view,
)


class BoundedPaginator(Paginator):
    """Counts at most ``COUNT_LIMIT`` rows (a LIMIT subquery), never a whole big table.

    Past the limit the list shows "1000+" and its first pages; staff narrow it with filters
    or the search box, which is what they need anyway.
    """

    limit = COUNT_LIMIT

    @cached_property
    def _bounded(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return bounded_count(rows, self.limit).value
        return len(rows)  # type: ignore[arg-type]  # a list: already in memory

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return min(self._bounded, self.limit)

    @property
    def count_is_capped(self) -> bool:
        return self._bounded > self.limit


class ReadOnlyAdmin(UtcTimesMixin, admin.ModelAdmin):
    """Viewable by staff with the view permission; never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TitledRowAdmin(ReadOnlyAdmin):
    """A read-only row whose page heading and breadcrumb name it in words (``row_title``)
    rather than by its ``__str__``."""

    change_form_template = "admin/wallet/titled_change_form.html"

    def row_title(self, obj: Any) -> str:
        raise NotImplementedError

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if obj is not None:
            extra["subtitle"] = self.row_title(obj)
        return super().change_view(request, object_id, form_url, extra)


class ProviderFilter(admin.SimpleListFilter):
    """The provider choices from the code: Django's default would ``SELECT DISTINCT`` the whole
    table to find them."""

    title = "provider"
    parameter_name = "provider__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(p.value, p.label) for p in Provider]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(provider=value) if value else queryset


class WalletInline(admin.TabularInline):
    model = Wallet
    fields = ("currency", "balance_shown", "updated_shown")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="balance")
    def balance_shown(self, wallet: Wallet) -> str:
        return amount_text(wallet.balance, wallet.currency)

    @admin.display(description="updated at")
    def updated_shown(self, wallet: Wallet) -> str:
        return when(wallet.updated_at)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Player)
class PlayerAdmin(UtcTimesMixin, admin.ModelAdmin):
    """The player lookup: search by exact account id; the page shows wallets and activity."""

    list_display = ("account_id", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("=account_id",)
    search_help_text = "Exact account id, as the provider or the player gives it."
    readonly_fields = ("account_id", "created_at")
    fields = ("account_id", "status", "created_at")
    change_form_template = "admin/wallet/player/change_form.html"
    paginator = BoundedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # players come from the cashier (``player_create``), not from support

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        player = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if player is not None and self.has_view_permission(request, player):
            extra.update(player_activity_context(player.pk))
            extra["can_adjust"] = request.user.has_perm(ADJUST_PERMISSION)
            extra.update(balance_at_context(player.pk, request.GET.get("balance_at", "")))
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ("player", "currency", "balance_shown", "updated_at")
    fields = ("player", "currency", "balance_shown", "updated_at")
    list_filter = ("currency",)
    search_fields = ("=player__account_id",)
    list_select_related = ("player",)
    paginator = BoundedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    @admin.display(description="balance", ordering="balance")
    def balance_shown(self, wallet: Wallet) -> str:
        return amount_text(wallet.balance, wallet.currency)

    def get_urls(self) -> list[URLPattern]:
        def adjust(request: HttpRequest, object_id: str) -> HttpResponse:
            return adjustment_view(self, request, object_id)

        custom = [
            path(
                "<path:object_id>/adjust/",
                self.admin_site.admin_view(adjust),
                name="wallet_wallet_adjust",
            )
        ]
        return [*custom, *super().get_urls()]


def ledger_title(entry: LedgerEntry) -> str:
    """ "Deposit 1000.00 USD to demo_alice": what a ledger row did, in words."""
    wallet = entry.wallet
    amount = amount_text(abs(entry.amount), wallet.currency)
    towards = "from" if entry.amount < 0 else "to"
    return f"{entry.get_kind_display()} {amount} {towards} {wallet.player.account_id}"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(TitledRowAdmin):
    """Money movements. The list keeps what support compares with a provider's records; the
    provider, the staff user and the reason are on each row's page."""

    list_display = (
        "created_at",
        "player",
        "kind",
        "amount_shown",
        "balance_after_shown",
        "bet_link",
        "provider_tx_id",
    )
    fields = (
        "title",
        "created_at",
        "wallet",
        "kind",
        "amount_shown",
        "balance_after_shown",
        "provider",
        "provider_tx_id",
        "bet",
        "staff_user",
        "reason",
    )
    list_filter = ("kind", ProviderFilter)
    search_fields = ("=provider_tx_id", "=wallet__player__account_id", "=bet__bet_key")
    list_select_related = ("wallet__player", "bet", "staff_user")
    paginator = BoundedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    ordering = ("-id",)

    @admin.display(description="entry")
    def title(self, entry: LedgerEntry) -> str:
        return ledger_title(entry)

    @admin.display(description="bet", ordering="bet")
    def bet_link(self, entry: LedgerEntry) -> str:
        # A link to the bet's page, and a cell that may wrap (Django keeps FK cells on one line).
        if entry.bet_id is None:
            return DASH
        url = reverse("admin:wallet_bet_change", args=[entry.bet_id])
        return format_html('<a href="{}">{}</a>', url, entry.bet)

    @admin.display(description="player", ordering="wallet__player__account_id")
    def player(self, entry: LedgerEntry) -> str:
        return entry.wallet.player.account_id

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, entry: LedgerEntry) -> str:
        return amount_text(entry.amount, entry.wallet.currency)

    @admin.display(description="balance after")
    def balance_after_shown(self, entry: LedgerEntry) -> str:
        return amount_text(entry.balance_after, entry.wallet.currency)

    def row_title(self, entry: LedgerEntry) -> str:
        return ledger_title(entry)


class StuckFilter(admin.SimpleListFilter):
    """The four reasons support looks at a bet (see ``wallet.selectors.StuckReason``)."""

    title = "stuck because"
    parameter_name = "stuck"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(reason.value, reason.label) for reason in StuckReason]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Bet]) -> QuerySet[Bet]:
        value = self.value()
        if not value:
            return queryset
        try:
            reason = StuckReason(value)
        except ValueError:
            return queryset.none()
        # With a provider chosen too, narrow the condition itself (a smaller index range).
        provider = request.GET.get("provider__exact") or None
        return queryset.filter(stuck_q(reason, provider=provider))


@admin.register(Bet)
class BetAdmin(ReadOnlyAdmin):
    """The bet list (filters for every stuck reason) and the one-page bet detail."""

    list_display = (
        "bet_key",
        "provider",
        "player",
        "stake_shown",
        "win_shown",
        "state_shown",
        "review_shown",
        "created_at",
    )
    list_filter = (
        StuckFilter,
        "provider",
        "state",
        "needs_review",
        "kind",
        ("created_at", admin.DateFieldListFilter),
        ("cancelled_at", admin.DateFieldListFilter),
    )
    search_fields = ("=bet_key", "=round_id", "=player__account_id")
    search_help_text = "Exact bet key, round id or player account id."
    list_select_related = ("player",)
    list_per_page = 50
    ordering = ("-created_at",)
    paginator = BoundedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    @admin.display(description="stake", ordering="stake")
    def stake_shown(self, bet: Bet) -> str:
        return amount_text(bet.stake, bet.currency)

    @admin.display(description="win", ordering="win")
    def win_shown(self, bet: Bet) -> str:
        return amount_text(bet.win, bet.currency)

    @admin.display(description="review", ordering="-needs_review")
    def review_shown(self, bet: Bet) -> str:
        # Not Django's boolean icons: a green tick on a flagged bet read as "all fine".
        if not bet.needs_review:
            return DASH
        return format_html(
            '<span class="badge badge-stuck" title="{}">needs review</span>',
            bet.review_reason or "flagged for review",
        )

    @admin.display(description="state", ordering="state")
    def state_shown(self, bet: Bet) -> str:
        label = bet.get_state_display().split(" (")[0]
        return format_html(
            '<span class="badge badge-{}" title="{}">{}</span>',
            bet.state,
            bet.get_state_display(),
            label,
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Bet], search_term: str
    ) -> tuple[QuerySet[Bet], bool]:
        """Exact bet key, round id or account id, each on its own index.

        Django's generic search ORs the three across a join to the player table, which
        PostgreSQL can only answer by reading every bet; looking the player up first keeps it
        three index lookups.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(bet_key=term) | Q(round_id=term)
        player_ids = list(Player.objects.filter(account_id=term).values_list("pk", flat=True))
        if player_ids:
            matches |= Q(player_id__in=player_ids)
        return queryset.filter(matches), False

    def get_urls(self) -> list[URLPattern]:
        def action(slug: str) -> Any:
            def view(request: HttpRequest, object_id: str) -> HttpResponse:
                return staff_action_view(self, request, object_id, slug)

            return self.admin_site.admin_view(view)

        info = self.opts.app_label, self.opts.model_name
        custom = [
            path(f"<path:object_id>/{slug}/", action(slug), name=f"{info[0]}_{info[1]}_{slug}")
            for slug in ("cancel", "resolve", "review")
        ]
        return [*custom, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The bet page: everything support needs about one bet, and its actions."""
        bet = self.get_object(request, unquote(object_id))
        if bet is None:
            return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, self.opts, object_id
            )
        if not self.has_view_permission(request, bet):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(bet),
            "subtitle": None,
            "has_view_permission": True,
            **bet_detail_context(bet, request),
        }
        return TemplateResponse(request, "admin/wallet/bet/detail.html", context)


@admin.register(PlayerSession)
class PlayerSessionAdmin(ReadOnlyAdmin):
    list_display = ("player", "provider", "currency", "created_at", "expires_at", "revoked_at")
    fields = ("player", "provider", "currency", "created_at", "expires_at", "revoked_at")
    list_filter = ("provider",)
    search_fields = ("=player__account_id",)
    exclude = ("token",)  # a live token is a credential
    paginator = BoundedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER


@admin.register(AuditEntry)
class AuditEntryAdmin(TitledRowAdmin):
    """Who did what, when, why, with the values before and after. Nobody edits it."""

    list_display = ("created_at", "actor", "what", "bet_link", "player", "reason", "changes")
    list_filter = ("action", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=bet__bet_key", "=player__account_id", "=actor__username")
    search_help_text = "Exact bet key, player account id or staff username."
    list_select_related = ("actor", "bet", "player")
    fields = ("created_at", "actor", "what", "bet_link", "player", "reason", "changes")
    readonly_fields = fields
    paginator = BoundedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    @admin.display(description="what", ordering="action")
    def what(self, entry: AuditEntry) -> str:
        return action_label(entry.action)

    def row_title(self, entry: AuditEntry) -> str:
        # "Cancel and refund by sam at ...", not the action's code.
        return f"{self.what(entry)} by {entry.actor} at {when(entry.created_at)}"

    @admin.display(description="bet", ordering="bet")
    def bet_link(self, entry: AuditEntry) -> str:
        if entry.bet_id is None:
            return "\u2013"
        url = reverse("admin:wallet_bet_change", args=[entry.bet_id])
        return format_html('<a href="{}">{}</a>', url, entry.bet)

    @admin.display(description="before → after")
    def changes(self, entry: AuditEntry) -> str:
        # An adjustment has no bet: its audit row keeps the wallet's currency.
        currency = entry.bet.currency if entry.bet is not None else entry.after.get("currency", "")
        rows = audit_changes(entry, currency)
        if not rows:
            return "no change"
        return format_html_join(
            "", "<div>{}: {} → <strong>{}</strong></div>", ((w, b, a) for w, b, a in rows)
        )


class QueueFilter(admin.SimpleListFilter):
    """What the approvals queue shows: what waits (the default), what was decided, or all."""

    title = "show"
    parameter_name = "show"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("decided", "Decided or expired"), ("all", "Everything")]

    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            if choice["display"] == "All":  # Django's "no filter" is the queue itself here
                choice["display"] = "Waiting for approval"
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet[Proposal]) -> QuerySet[Proposal]:
        value = self.value()
        if value == "all":
            return queryset
        if value == "decided":
            return queryset.exclude(status=ProposalStatus.PENDING)
        return queryset.filter(status=ProposalStatus.PENDING)


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    """The approvals queue: staff money actions above the four-eyes limit, oldest first."""

    list_display = (
        "title",
        "player",
        "amount_shown",
        "proposed_by",
        "created_at",
        "expires_at",
        "status_shown",
    )
    list_display_links = ("title",)
    list_filter = (QueueFilter, "kind")
    search_fields = ("=player__account_id", "=proposed_by__username")
    search_help_text = "Exact player account id or the proposer's username."
    list_select_related = ("player", "proposed_by")
    ordering = ("created_at", "id")
    paginator = BoundedPaginator
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    @admin.display(description="action", ordering="kind")
    def title(self, proposal: Proposal) -> str:
        return str(proposal)

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, proposal: Proposal) -> str:
        return amount_text(proposal.amount, proposal.currency)

    @admin.display(description="status", ordering="status")
    def status_shown(self, proposal: Proposal) -> str:
        return proposal.get_status_display()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        expire_due_proposals()  # what is past its time leaves the queue, with its audit row
        return super().changelist_view(request, {"title": "Approvals", **(extra_context or {})})

    def get_urls(self) -> list[URLPattern]:
        def page(request: HttpRequest, object_id: str) -> HttpResponse:
            return proposal_page(self, request, object_id)

        def decide(verb: str) -> Any:
            def view(request: HttpRequest, object_id: str) -> HttpResponse:
                return decide_view(self, request, object_id, verb)

            return self.admin_site.admin_view(view)

        return [
            path("<path:object_id>/approve/", decide("approve"), name="wallet_proposal_approve"),
            path("<path:object_id>/reject/", decide("reject"), name="wallet_proposal_reject"),
            path(
                "<path:object_id>/change/",
                self.admin_site.admin_view(page),
                name="wallet_proposal_change",
            ),
            *super().get_urls(),
        ]


@admin.register(StaffLoginFailure)
class StaffLoginFailureAdmin(UtcTimesMixin, admin.ModelAdmin):
    """Failed admin logins; deleting a user's rows (superusers) lifts a lockout early."""

    list_display = ("created_at", "username", "client_ip")
    search_fields = ("=username", "=client_ip")
    readonly_fields = ("created_at", "username", "client_ip")
    paginator = BoundedPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
