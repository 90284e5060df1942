"""Every failure of a provider request, answered in that provider's own format.

DRF's exceptions (an unreadable body, a failed proof, an address off the allowlist, a method
other than POST, throttling) and the adapters' ``Refused`` become a ``Rejection`` that the
provider's adapter encodes; anything else is a bug or an outage, answered with the provider's
"try again" where a wrong final answer could lose money. Never DRF's ``{"detail": …}`` and
never an HTML page. The view journals every answer, refusals included.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from rest_framework import exceptions

from providers.base import ProviderAdapter, ProviderAnswer, Refused, Rejection

if TYPE_CHECKING:
    from providers.views import ProviderCallbackView

log = logging.getLogger("providers.views")


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "request body too large"


class HostNotServed(exceptions.APIException):
    status_code = 400
    default_detail = "Host not served"


#: DRF's exceptions as the refusal kinds every adapter knows, most specific first.
_REJECTIONS: tuple[tuple[type[exceptions.APIException], Rejection], ...] = (
    (exceptions.AuthenticationFailed, Rejection.AUTH_FAILED),
    (exceptions.NotAuthenticated, Rejection.AUTH_FAILED),
    (exceptions.PermissionDenied, Rejection.FORBIDDEN_IP),
    (exceptions.ParseError, Rejection.BAD_INPUT),
    (exceptions.UnsupportedMediaType, Rejection.BAD_INPUT),
    (exceptions.MethodNotAllowed, Rejection.BAD_INPUT),
    (exceptions.NotFound, Rejection.UNKNOWN_ACTION),
    (BodyTooLarge, Rejection.TOO_LARGE),
    (HostNotServed, Rejection.BAD_HOST),
    (exceptions.Throttled, Rejection.UNEXPECTED),
)


def rejection_of(exc: Exception) -> tuple[Rejection, str] | None:
    """The refusal kind and message of an expected failure; None for a bug or an outage."""
    if isinstance(exc, Refused):
        return exc.kind, exc.message
    if isinstance(exc, exceptions.MethodNotAllowed):
        return Rejection.BAD_INPUT, "only POST is accepted"
    for drf_class, kind in _REJECTIONS:
        if isinstance(exc, drf_class):
            return kind, str(exc.detail)
    return None


def provider_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    """DRF's exception handler for the provider callbacks (``APIView.get_exception_handler``).

    Whatever the wallet did for this request is rolled back first: a refusal must not leave a
    movement standing.
    """
    view: ProviderCallbackView = context["view"]
    call = view.call
    view.held.rollback()
    found = rejection_of(exc)
    if found is None:
        log.exception("%s request %s failed", view.provider.slug, call.request_id)
        call.journal.outcome = Rejection.UNEXPECTED.value
        call.journal.error = f"{type(exc).__name__}: {str(exc)[:500]}"
        kind, message = Rejection.UNEXPECTED, "internal error, try again"
    else:
        kind, message = found
        call.journal.outcome = kind.value
        call.journal.error = message
    view.answer = safe_refusal(view.provider, view, kind, message)
    return view.rendered(view.answer)


def safe_refusal(
    adapter: ProviderAdapter, view: ProviderCallbackView, kind: Rejection, message: str
) -> ProviderAnswer:
    """The adapter's refusal; a bug in the refusal itself still answers JSON, not a trace."""
    call = view.call
    try:
        answer = adapter.refuse(call, kind, message)
    except Exception:
        log.exception("%s could not encode a refusal", adapter.slug)
        return ProviderAnswer({"error": "internal error"}, 500, Rejection.UNEXPECTED.value)
    return ProviderAnswer(answer.body, answer.http_status, call.journal.outcome or kind.value)
