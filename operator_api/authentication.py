"""Who is calling: a machine with an API key, or a staff member signed in to the admin."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request
from rest_framework_api_key.permissions import KeyParser

from operator_api.models import OperatorApiKey


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <prefix>.<secret>``: the key's service user is the caller.

    A key that is unknown, revoked or expired is refused with 401 (never treated as anonymous),
    so a platform learns at once that its key stopped working.
    """

    keyword = KeyParser.keyword
    parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, OperatorApiKey] | None:
        raw = self.parser.get(request._request)
        if raw is None:
            return None
        try:
            key = cast(OperatorApiKey, OperatorApiKey.objects.get_from_key(raw.strip()))
        except OperatorApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("This API key is unknown or revoked.") from None
        if key.has_expired:
            raise exceptions.AuthenticationFailed(
                f"This API key expired at {key.expiry_date:%Y-%m-%d %H:%M:%S %Z}."
            )
        if not key.owner.is_active:
            raise exceptions.AuthenticationFailed("This API key's service user is disabled.")
        return key.owner, key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class StaffSessionAuthentication(SessionAuthentication):
    """Staff signed in to the admin, from their browser: CSRF is enforced on every write (by
    DRF's ``SessionAuthentication``), and only staff accounts count."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        found = super().authenticate(request)
        if found is None or not getattr(found[0], "is_staff", False):
            return None
        return found
