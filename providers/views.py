"""The one endpoint every provider goes through.

request → Host (``ALLOWED_HOSTS``) → IP allowlist → body (limit; chunked too) → adapter
(authenticate, decode, validate, wallet service, encode) → journal row → answer. No request-wide
transaction: the wallet service owns its own, and the journal row is written whatever happened
to it.

One commit per request on the happy path: the endpoint holds the commit of the wallet service's
transaction (``wallet.services.hold_commit``), writes the journal row in it, then commits. When
anything failed (a refusal, a busy wallet, an exception, the journal INSERT or the commit
itself), nothing of the movement stands and the journal row is written in its own transaction,
with the provider's "try again" answer where the failure came after the wallet had decided.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from providers import journal
from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection
from providers.network import client_ip, ip_allowed
from providers.wire import dumps
from wallet.services import HeldCommit, hold_commit

log = logging.getLogger(__name__)


def endpoint(adapter: ProviderAdapter, *, unknown_path: bool = False):  # type: ignore[no-untyped-def]
    """Build the Django view for one adapter.

    ``unknown_path``: the view of the provider's paths that name no endpoint of its (a deeper
    path, a typo): refused in the provider's own format and journaled, like an unknown action.
    """

    @csrf_exempt
    def view(request: HttpRequest, function: str = "") -> HttpResponse:
        started = time.perf_counter_ns()
        call = InboundCall(
            request=request,
            body=b"",
            function=function,
            client_ip=client_ip(request, tuple(settings.TRUSTED_PROXIES)),
            request_id=request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex,
        )
        with hold_commit() as held:
            answer = _answer(adapter, call, held, unknown_path=unknown_path)
            latency_us = (time.perf_counter_ns() - started) // 1000
            if held.open:
                answer = _journal_and_commit(adapter, call, answer, held, latency_us)
            else:
                journal.write_inbound(adapter, call, answer, latency_us)
        response = HttpResponse(
            dumps(answer.body), status=answer.http_status, content_type="application/json"
        )
        response["X-Request-ID"] = call.request_id
        return response

    view.__name__ = f"{adapter.slug}_endpoint"
    return view


def _answer(
    adapter: ProviderAdapter, call: InboundCall, held: HeldCommit, *, unknown_path: bool = False
) -> ProviderAnswer:
    """The adapter's answer; a refusal when anything failed, with no movement left standing."""
    try:
        _check_host(call.request)
        if call.request.method != "POST":
            raise Refused(Rejection.BAD_INPUT, "only POST is accepted")
        if not ip_allowed(call.client_ip, adapter.allowlist()):
            raise Refused(Rejection.FORBIDDEN_IP, f"address {call.client_ip} is not allowed")
        call.body = _read_body(call.request)
        if unknown_path:
            path = call.request.path[:80]
            call.journal.action = f"no endpoint: {path}"[:64]  # what staff see in the list
            raise Refused(Rejection.UNKNOWN_ACTION, f"no {adapter.slug} endpoint at {path!r}")
        if adapter.functions is not None and call.function not in adapter.functions:
            raise Refused(Rejection.UNKNOWN_ACTION, f"unknown function {call.function[:40]!r}")
        return adapter.handle(call)
    except Refused as refusal:
        held.rollback()  # a refusal after the wallet decided: the movement must not stand
        call.journal.outcome = refusal.kind.value
        call.journal.error = refusal.message
        return _safe_refusal(adapter, call, refusal.kind, refusal.message)
    except Exception as exc:
        held.rollback()
        log.exception("%s request %s failed", adapter.slug, call.request_id)
        call.journal.outcome = Rejection.UNEXPECTED.value
        call.journal.error = f"{type(exc).__name__}: {str(exc)[:500]}"
        return _unexpected(adapter, call)


def _journal_and_commit(
    adapter: ProviderAdapter,
    call: InboundCall,
    answer: ProviderAnswer,
    held: HeldCommit,
    latency_us: int,
) -> ProviderAnswer:
    """Write the journal row in the held money transaction and commit both together.

    If either fails, the movement is rolled back, so the answer the provider gets is the
    "try again" of an unexpected failure (never a success for money that did not move), and
    that answer is journaled in a transaction of its own.
    """
    try:
        held.commit(last_statement=journal.inbound_insert(adapter, call, answer, latency_us))
        return answer
    except Exception as exc:
        log.exception("%s request %s could not commit", adapter.slug, call.request_id)
        held.rollback()
        call.journal.outcome = Rejection.UNEXPECTED.value
        call.journal.error = f"not committed: {type(exc).__name__}: {str(exc)[:500]}"
        refusal = _unexpected(adapter, call)
        journal.write_inbound(adapter, call, refusal, latency_us)
        return refusal


def _unexpected(adapter: ProviderAdapter, call: InboundCall) -> ProviderAnswer:
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


#: Hosts already found allowed, by everything ``get_host`` reads from the request; bounded, and
#: never a refused one, so that a caller cycling through Host values cannot grow it. Emptied
#: when a setting ``get_host`` reads changes (tests, ``override_settings``).
_ALLOWED_HOSTS_SEEN: set[tuple[object, ...]] = set()
_HOSTS_SEEN_MAX = 256
_HOST_SETTINGS = frozenset({"ALLOWED_HOSTS", "DEBUG", "USE_X_FORWARDED_HOST"})


@receiver(setting_changed)
def _forget_hosts(setting: str, **kwargs: object) -> None:
    if setting in _HOST_SETTINGS:
        _ALLOWED_HOSTS_SEEN.clear()


def _check_host(request: HttpRequest) -> None:
    """Refuse a Host outside ``ALLOWED_HOSTS`` in the provider's format (Django's own check
    answers an HTML 400, and the provider handler runs no middleware that would make it).

    Django's ``get_host`` costs about 5 µs, 1 % of a cancel; a host it allowed before is
    allowed again without asking it.
    """
    meta = request.META
    key = (
        meta.get("HTTP_HOST"),
        meta.get("HTTP_X_FORWARDED_HOST"),
        meta.get("SERVER_NAME"),
        meta.get("SERVER_PORT"),
    )
    if key in _ALLOWED_HOSTS_SEEN:
        return
    try:
        request.get_host()
    except DisallowedHost:
        host = meta.get("HTTP_HOST", meta.get("SERVER_NAME", ""))
        raise Refused(Rejection.BAD_HOST, f"Host {str(host)[:80]!r} is not one we serve") from None
    if len(_ALLOWED_HOSTS_SEEN) < _HOSTS_SEEN_MAX:
        _ALLOWED_HOSTS_SEEN.add(key)


def _read_body(request: HttpRequest) -> bytes:
    """The body, at most ``PROVIDER_MAX_BODY_BYTES``; a chunked one too.

    A body sent with ``Transfer-Encoding: chunked`` has no Content-Length, so Django's stream
    reads it as empty; the server's own input stream holds it, de-chunked, when the server says
    the stream ends with the body (``wsgi.input_terminated``: granian and gunicorn do). A server
    that does not say so cannot give it safely: "try again" then, never a final refusal of a
    request we did not read.
    """
    limit = settings.PROVIDER_MAX_BODY_BYTES
    meta = request.META
    length = meta.get("CONTENT_LENGTH")
    if not length and "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return _read_chunked(meta, limit)
    try:
        declared = int(length or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise Refused(Rejection.TOO_LARGE, f"body of {declared} bytes is over {limit}")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refused(Rejection.TOO_LARGE, f"body is over {limit} bytes")
    return body


def _read_chunked(meta: dict[str, object], limit: int) -> bytes:
    stream = meta.get("wsgi.input")
    if not meta.get("wsgi.input_terminated") or stream is None:
        raise Refused(Rejection.UNEXPECTED, "a chunked body this server cannot read")
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(limit + 1 - size)  # type: ignore[attr-defined]
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > limit:
        raise Refused(Rejection.TOO_LARGE, f"chunked body is over {limit} bytes")
    return b"".join(parts)
