"""Admin pages for players, wallets, the ledger, bets, sessions and the staff audit.

Money rows are read-only for everyone: no add, change or delete, even for superusers.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wallet.models import AuditEntry, Bet, LedgerEntry, Player, PlayerSession, Wallet


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff with the view permission; never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WalletInline(admin.TabularInline):
    model = Wallet
    fields = ("currency", "balance", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ("account_id", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("=account_id",)
    readonly_fields = ("account_id", "created_at")
    fields = ("account_id", "status", "created_at")
    inlines = [WalletInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # players come from the cashier (``player_create``), not from support

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ("player", "currency", "balance", "updated_at")
    list_filter = ("currency",)
    search_fields = ("=player__account_id",)
    list_select_related = ("player",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "wallet",
        "kind",
        "amount",
        "balance_after",
        "provider",
        "provider_tx_id",
        "bet",
        "staff_user",
    )
    list_filter = ("kind", "provider")
    search_fields = ("=provider_tx_id", "=wallet__player__account_id", "=bet__bet_key")
    list_select_related = ("wallet__player", "bet", "staff_user")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Bet)
class BetAdmin(ReadOnlyAdmin):
    list_display = (
        "bet_key",
        "provider",
        "player",
        "currency",
        "stake",
        "win",
        "state",
        "needs_review",
        "created_at",
    )
    list_filter = ("provider", "state", "needs_review", "kind")
    search_fields = ("=bet_key", "=round_id", "=player__account_id")
    list_select_related = ("player",)
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(PlayerSession)
class PlayerSessionAdmin(ReadOnlyAdmin):
    list_display = ("player", "provider", "currency", "created_at", "expires_at", "revoked_at")
    list_filter = ("provider",)
    search_fields = ("=player__account_id",)
    exclude = ("token",)  # a live token is a credential


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "bet", "player", "reason")
    list_filter = ("action",)
    search_fields = ("=bet__bet_key", "=player__account_id", "actor__username")
    date_hierarchy = "created_at"
