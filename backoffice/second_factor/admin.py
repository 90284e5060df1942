"""The sign-in audit (read-only) and each staff login's second factor on its user page.

django-otp's own device pages are taken out of the admin: they show every secret and let a
superuser edit devices without a reason or an audit entry. Devices change only by setting one
up (``enrol``) and by the audited reset.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.second_factor.models import SignInEvent
from backoffice.second_factor.services import recovery_codes_left
from wallet.display import DASH, UtcTimesMixin, when

for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


@admin.register(SignInEvent)
class SignInEventAdmin(UtcTimesMixin, admin.ModelAdmin):
    """Second factors set up and reset, wrong codes, recovery codes used. Nobody edits it."""

    list_display = ("created_at", "staff", "what", "actor", "client_ip", "reason")
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=staff__username", "=actor__username", "=client_ip")
    search_help_text = "Exact staff username (whose or by whom) or client IP."
    list_select_related = ("staff", "actor")
    fields = ("created_at", "staff", "what", "actor", "client_ip", "reason")
    readonly_fields = fields
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="what", ordering="kind")
    def what(self, event: SignInEvent) -> str:
        return event.get_kind_display()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):  # type: ignore[type-arg]
    """Django's user admin, with whether each login has a second factor, and its reset."""

    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "second_factor_set_up",
    )
    readonly_fields = ("second_factor",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        apps = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_app=Exists(apps))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:  # adding a user: they set up their own at their first sign-in
            return fieldsets
        return [*fieldsets, ("Second factor", {"fields": ("second_factor",)})]

    @admin.display(description="second factor", boolean=True, ordering="has_app")
    def second_factor_set_up(self, user: Any) -> bool:
        return bool(user.has_app)

    @admin.display(description="second factor")
    def second_factor(self, user: Any) -> str:
        app = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        reset = reverse("admin:second_factor_reset", args=[user.pk])
        if app is None:
            return format_html(
                "Not set up: {} sets up an authenticator app at their next sign-in.",
                user.get_username(),
            )
        return format_html(
            "Authenticator app set up {}, last used {}; {} recovery codes left. "
            '<a href="{}" id="second-factor-reset">Reset (lost phone)</a>',
            when(app.created_at),
            when(app.last_used_at) if app.last_used_at else DASH,
            recovery_codes_left(user),
            reset,
        )
