"""Who has finished signing in: the one rule the admin site, the middleware and the API share.

A staff sign-in is finished when the password was right and then, if the user has a second
factor (an authenticator app), one of its codes or a recovery code was too. With
``STAFF_2FA_REQUIRED`` on, a user without a second factor has not finished either: they must
set one up first. With it off (the demo), such a user is signed in by the password alone.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django_otp import user_has_device


class Step(StrEnum):
    """The sign-in step a password-only session still owes."""

    VERIFY = "verify"  # has a second factor: type a code from it
    ENROL = "enrol"  # has none, and STAFF_2FA_REQUIRED: set one up

    def url(self, next_url: str = "") -> str:
        """The page of this step; ``next_url`` is where it leads once done."""
        page = reverse(
            "admin:second_factor_verify" if self is Step.VERIFY else "admin:second_factor_enrol"
        )
        return f"{page}?{urlencode({'next': next_url})}" if next_url else page


def has_second_factor(user: Any) -> bool:
    """A confirmed device (authenticator app or recovery codes) belongs to this user."""
    return bool(user_has_device(user, confirmed=True))


def passed_second_factor(user: Any) -> bool:
    """This session typed a code from one of the user's devices (set by django-otp's
    ``OTPMiddleware``; without it nobody counts as having passed)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def pending_step(request: HttpRequest) -> Step | None:
    """The step this request's user still owes, or None: signed in fully, or not at all."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or passed_second_factor(user):
        return None
    if has_second_factor(user):
        return Step.VERIFY
    if settings.STAFF_2FA_REQUIRED:
        return Step.ENROL
    return None


def staff_is_verified(request: HttpRequest) -> bool:
    """True when the request's user is active staff and finished every sign-in step.

    Pass Django's request (in a DRF authentication class: ``request._request``); API-key
    callers have no staff session and are not this function's business.
    """
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and pending_step(request) is None
    )


def second_factor_follows(user: Any) -> bool:
    """After the right password: whether a code step comes next, so that the login form
    leaves the failure count alone until the whole sign-in has succeeded."""
    return bool(settings.STAFF_2FA_REQUIRED) or has_second_factor(user)
