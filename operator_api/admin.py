"""API keys in the admin: listed and revoked there, made with ``manage.py api_key_create``
(which shows the secret once)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from operator_api.keys import revoke_api_key
from operator_api.models import OperatorApiKey
from wallet.display import UtcTimesMixin

# The library's own key model is not used (ours carries a role and an owner): hide its page.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(OperatorApiKey)
class OperatorApiKeyAdmin(UtcTimesMixin, APIKeyModelAdmin):
    list_display = (  # type: ignore[assignment]
        "prefix",
        "name",
        "role",
        "owner",
        "created",
        "expiry_date",
        "_has_expired",
        "revoked",
    )
    list_filter = ("role", "revoked")  # type: ignore[assignment]
    fields = ("prefix", "name", "role", "owner", "created", "expiry_date", "revoked", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the secret must be shown once, by the command: see docs/operations.md

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # type: ignore[union-attr]

    @admin.action(description="Revoke selected keys (cannot be undone)", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[OperatorApiKey]) -> None:
        for key in queryset:
            revoke_api_key(key)
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)
