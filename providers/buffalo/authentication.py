"""Buffalo's static token: ``?authToken=`` and/or ``Authorization: Bearer``, constant-time.

Checked before the body is read: a caller without the token makes us parse nothing.
"""

from __future__ import annotations

import hmac

from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from providers.authentication import ProviderAuthentication
from providers.base import InboundCall
from providers.buffalo import config

QUERY_PARAMETER = "authToken"
_BEARER = "bearer "


class TokenRefused(Exception):
    """The token is missing or wrong; the message says which form failed (journal only)."""


def _matches(given: str, expected: str) -> bool:
    # Bytes, so that a non-ASCII token compares (and fails) instead of raising TypeError.
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def token_forms(request: HttpRequest) -> str:
    """Check every token the request carries; return the forms seen ("query+header", ...).

    At least one form must be present and every one present must match. An empty configured
    token refuses everything (fail closed), read at call time so tests and rotations apply.
    """
    expected = config.auth_token()
    forms: list[str] = []
    problems: list[str] = []
    query_tokens = request.GET.getlist(QUERY_PARAMETER)
    if query_tokens:
        forms.append("query")
        if not expected or not all(_matches(t, expected) for t in query_tokens):
            problems.append("authToken query parameter does not match")
    header = request.headers.get("Authorization")
    if header is not None:
        forms.append("header")
        if not header[: len(_BEARER)].lower() == _BEARER:
            problems.append("Authorization is not a Bearer token")
        elif not expected or not _matches(header[len(_BEARER) :].strip(), expected):
            problems.append("Authorization Bearer token does not match")
    if not forms:
        raise TokenRefused("no authToken query parameter and no Authorization header")
    if problems:
        raise TokenRefused("; ".join(problems))
    return "+".join(forms)


class BuffaloTokenAuthentication(ProviderAuthentication):
    slug = "buffalo"

    def prove(self, request: Request, call: InboundCall) -> str:
        try:
            return token_forms(call.request)
        except TokenRefused as exc:
            raise AuthenticationFailed(str(exc)) from None
