"""Lock out admin logins after repeated failures, per username and per client address.

Why our own ~80 lines rather than django-axes: axes needs ``request`` in every
``authenticate()`` call (Django's test ``Client.login`` and management code do not pass one),
resolves client addresses with its own proxy rules instead of our ``TRUSTED_PROXIES``, and brings
a dependency for one form. This module only guards the admin login form, keeps its state in the
database (``wallet.StaffLoginFailure``) so that every app server agrees, and is tested in
``tests/admin/test_login_lockout.py``.

Rules (settings, read at call time):
- ``ADMIN_LOGIN_MAX_FAILURES`` failures for one username within ``ADMIN_LOGIN_LOCKOUT_MINUTES``
  lock that username (whatever address tries it, including the right password);
- ``ADMIN_LOGIN_MAX_FAILURES_PER_IP`` failures from one address lock that address (password
  spraying over many usernames);
- a wrong second-factor code counts as a failure too (``backoffice.second_factor``), and the
  lock applies to that step as well;
- a successful sign-in (the password, then the code when one is due) clears its username's
  failures; a superuser can delete rows to unlock.
The lock is keyed on the username typed, known or not, so it reveals nothing about accounts.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.utils import timezone

from backoffice.second_factor.rules import second_factor_follows
from providers.network import client_ip
from wallet.models import StaffLoginFailure

_USERNAME_MAX = 150


def _window() -> timedelta:
    return timedelta(minutes=settings.ADMIN_LOGIN_LOCKOUT_MINUTES)


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address behind ``TRUSTED_PROXIES``, or None when there is no valid one."""
    if request is None:
        return None
    address = client_ip(request, tuple(settings.TRUSTED_PROXIES))
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # no address, or a forwarded hop that is not one: count by username only
        return None


def _normalise(username: str) -> str:
    return (username or "").strip().lower()[:_USERNAME_MAX]


def is_locked_out(username: str, request: HttpRequest | None) -> bool:
    """True when this username or this client address has failed too often lately."""
    since = timezone.now() - _window()
    recent = StaffLoginFailure.objects.filter(created_at__gte=since)
    user_limit = settings.ADMIN_LOGIN_MAX_FAILURES
    if recent.filter(username=_normalise(username))[:user_limit].count() >= user_limit:
        return True
    address = client_address(request)
    ip_limit = settings.ADMIN_LOGIN_MAX_FAILURES_PER_IP
    return bool(address and recent.filter(client_ip=address)[:ip_limit].count() >= ip_limit)


def record_failure(username: str, request: HttpRequest | None) -> None:
    StaffLoginFailure.objects.filter(created_at__lt=timezone.now() - _window()).delete()
    StaffLoginFailure.objects.create(
        username=_normalise(username), client_ip=client_address(request)
    )


def clear_failures(username: str) -> None:
    StaffLoginFailure.objects.filter(username=_normalise(username)).delete()


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, refusing while locked out and counting each failure."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked_out": (
            "Too many failed logins for this account or from this address. Wait "
            "%(minutes)s minutes and try again, or ask an administrator to unlock it."
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if is_locked_out(username, self.request):
            raise forms.ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": settings.ADMIN_LOGIN_LOCKOUT_MINUTES},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_failure(username, self.request)
            raise
        # With a code still to type, the failures stay until it is right: otherwise the right
        # password would wipe the count of wrong codes, and codes could be guessed forever.
        if not second_factor_follows(self.get_user()):
            clear_failures(username)
        return cleaned
