"""The one endpoint every provider goes through.

request → body limit → IP allowlist → adapter (authenticate, decode, validate, wallet service,
encode) → journal row → answer. No request-wide transaction: the wallet service owns its own,
and the journal row is written whatever happened to it.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from providers import journal
from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection
from providers.network import client_ip, ip_allowed
from providers.wire import dumps

log = logging.getLogger(__name__)


def endpoint(adapter: ProviderAdapter):  # type: ignore[no-untyped-def]
    """Build the Django view for one adapter."""

    @csrf_exempt
    def view(request: HttpRequest, function: str = "") -> HttpResponse:
        started = time.perf_counter_ns()
        call = InboundCall(
            request=request,
            body=b"",
            function=function,
            client_ip=client_ip(request, tuple(settings.TRUSTED_PROXIES)),
            request_id=request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex,
        )
        answer = _answer(adapter, call)
        latency_us = (time.perf_counter_ns() - started) // 1000
        journal.write_inbound(
            call,
            answer,
            provider=adapter.slug,
            secret_fields=adapter.secret_fields,
            latency_us=latency_us,
        )
        response = HttpResponse(
            dumps(answer.body), status=answer.http_status, content_type="application/json"
        )
        response["X-Request-ID"] = call.request_id
        return response

    view.__name__ = f"{adapter.slug}_endpoint"
    return view


def _answer(adapter: ProviderAdapter, call: InboundCall) -> ProviderAnswer:
    try:
        if call.request.method != "POST":
            raise Refused(Rejection.BAD_INPUT, "only POST is accepted")
        if not ip_allowed(call.client_ip, adapter.allowlist()):
            raise Refused(Rejection.FORBIDDEN_IP, f"address {call.client_ip} is not allowed")
        call.body = _read_body(call.request)
        if adapter.functions is not None and call.function not in adapter.functions:
            raise Refused(Rejection.UNKNOWN_ACTION, f"unknown function {call.function[:40]!r}")
        return adapter.handle(call)
    except Refused as refusal:
        call.journal.outcome = refusal.kind.value
        call.journal.error = refusal.message
        return _safe_refusal(adapter, call, refusal.kind, refusal.message)
    except Exception as exc:
        log.exception("%s request %s failed", adapter.slug, call.request_id)
        call.journal.outcome = Rejection.UNEXPECTED.value
        call.journal.error = f"{type(exc).__name__}: {str(exc)[:500]}"
        return _safe_refusal(adapter, call, Rejection.UNEXPECTED, "internal error, try again")


def _safe_refusal(
    adapter: ProviderAdapter, call: InboundCall, kind: Rejection, message: str
) -> ProviderAnswer:
    try:
        answer = adapter.refuse(call, kind, message)
    except Exception:  # a bug in the refusal itself: still JSON, still not a stack trace
        log.exception("%s could not encode a refusal", adapter.slug)
        return ProviderAnswer({"error": "internal error"}, 500, Rejection.UNEXPECTED.value)
    return ProviderAnswer(answer.body, answer.http_status, call.journal.outcome or kind.value)


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.PROVIDER_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise Refused(Rejection.TOO_LARGE, f"body of {declared} bytes is over {limit}")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refused(Rejection.TOO_LARGE, f"body is over {limit} bytes")
    return body
