"""The one DRF view every provider callback goes through.

DRF's chain, in the order a provider request needs it: Host (``ALLOWED_HOSTS``) → POST only →
the provider's IP allowlist (its permission) → the body (size limit; chunked too) → the
provider's proof (its authentication class, which may read the body through its parser) → the
adapter's ``execute`` (validate, one wallet service, encode) → the provider's renderer. Every
failure goes through ``providers.exceptions.provider_exception_handler`` into the provider's
own refusal. Then the journal row, whatever happened.

One commit per request on the happy path: the view holds the commit of the wallet service's
transaction (``wallet.services.hold_commit``), writes the journal row in it, then commits. When
anything failed (a refusal, a busy wallet, an exception, the journal INSERT or the commit
itself), nothing of the movement stands and the journal row is written in its own transaction,
with the provider's "try again" answer where the failure came after the wallet had decided.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework.exceptions import MethodNotAllowed, NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.views import APIView

from monitoring.logs import log_request
from monitoring.metrics import (
    collect_request_money,
    count_committed_money,
    observe_request,
    stop_collecting_money,
)
from providers import journal
from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection
from providers.exceptions import (
    BodyTooLarge,
    HostNotServed,
    provider_exception_handler,
    safe_refusal,
)
from providers.network import client_ip
from providers.permissions import ProviderAddressAllowed
from wallet.services import HeldCommit, hold_commit

log = logging.getLogger(__name__)


class ProviderCallbackView(APIView):
    """A provider's callbacks: ``as_view(adapter=...)``; its parser, authentication and
    renderer come from the adapter, the permission (IP allowlist) is the same for all."""

    adapter: ClassVar[ProviderAdapter | None] = None
    #: The view of a provider's paths that name no endpoint of its (a deeper path, a typo):
    #: refused in the provider's own format and journaled, like an unknown action.
    unknown_path: ClassVar[bool] = False
    permission_classes = (ProviderAddressAllowed,)
    throttle_classes = ()
    http_method_names = ["post"]

    call: InboundCall
    held: HeldCommit
    answer: ProviderAnswer

    @property
    def provider(self) -> ProviderAdapter:
        assert self.adapter is not None
        return self.adapter

    def get_parsers(self) -> list[Any]:
        return [self.provider.parser_class()]

    def get_authenticators(self) -> list[Any]:
        return [self.provider.authentication_class()]

    def get_renderers(self) -> list[Any]:
        return [self.provider.renderer_class()]

    def rendered(self, answer: ProviderAnswer) -> HttpResponse:
        """The answer through the provider's renderer, as a plain ``HttpResponse`` (which DRF's
        ``finalize_response`` passes through): the template-response machinery behind DRF's
        ``Response`` does nothing for a fixed renderer and costs (decision 0008)."""
        renderer = self.provider.renderer_class()
        return HttpResponse(
            renderer.render(answer.body),
            status=answer.http_status,
            content_type=renderer.media_type,
        )

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], HttpResponse]:
        return provider_exception_handler

    @property
    def default_response_headers(self) -> dict[str, str]:
        return {}  # no Allow/Vary: the answer is the provider's, whatever it asked

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        started = time.perf_counter_ns()
        self.call = InboundCall(
            request=request,
            body=b"",
            function=kwargs.get("function", ""),
            client_ip=client_ip(request, tuple(settings.TRUSTED_PROXIES)),
            request_id=request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex,
        )
        money, collecting = collect_request_money()
        try:
            with hold_commit() as self.held:
                response = super().dispatch(request, *args, **kwargs)
                latency_us = (time.perf_counter_ns() - started) // 1000
                if self.held.open:
                    committed = self._journal_and_commit(latency_us)
                    if committed is self.answer:
                        count_committed_money(money)  # the movements stand: count them
                    else:
                        self.answer = committed
                        response = self.rendered(committed)
                else:
                    journal.write_inbound(self.provider, self.call, self.answer, latency_us)
        finally:
            stop_collecting_money(collecting)
        self._observe(latency_us)
        response["X-Request-ID"] = self.call.request_id
        return response

    def _observe(self, latency_us: int) -> None:
        """Count the request as journaled (the journal's outcome) and log its line: once per
        request, after the row, so metrics add up to the journal's rows."""
        draft, slug = self.call.journal, self.provider.slug
        outcome = (draft.outcome or self.answer.outcome)[:32]
        observe_request(slug, outcome, latency_us)
        log_request(
            request_id=self.call.request_id,
            provider=slug,
            action=draft.action,
            bet_key=draft.bet_key,
            outcome=outcome,
            latency_us=latency_us,
        )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """DRF's ``initial`` in the providers' order: the address before the proof, so that a
        caller off the allowlist makes us decrypt or verify nothing."""
        self.format_kwarg = None
        _check_host(request._request)
        if request.method != "POST":
            raise MethodNotAllowed(request.method)
        self.check_permissions(request)
        self.call.body = _read_body(request._request)
        if self.unknown_path:
            path = request.path[:80]
            self.call.journal.action = f"no endpoint: {path}"[:64]  # what staff see in the list
            raise NotFound(f"no {self.provider.slug} endpoint at {path!r}")
        functions = self.provider.functions
        if functions is not None:
            function = self.call.function
            if function not in functions:
                raise NotFound(f"unknown function {function[:40]!r}")
            self.call.journal.action = function
            self.call.journal.is_cancel = function == self.provider.cancel_function
        self.perform_authentication(request)

    def permission_denied(
        self, request: Request, message: str | None = None, code: str | None = None
    ) -> NoReturn:
        # DRF would authenticate first to choose between 401 and 403; the allowlist is checked
        # before any proof, so it is always "forbidden".
        raise PermissionDenied(message)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        self.answer = self.provider.execute(self.call, request)
        return self.rendered(self.answer)

    def _journal_and_commit(self, latency_us: int) -> ProviderAnswer:
        """Write the journal row in the held money transaction and commit both together.

        If either fails, the movement is rolled back, so the answer the provider gets is the
        "try again" of an unexpected failure (never a success for money that did not move),
        and that answer is journaled in a transaction of its own.
        """
        call, adapter = self.call, self.provider
        try:
            self.held.commit(
                last_statement=journal.inbound_insert(adapter, call, self.answer, latency_us)
            )
            return self.answer
        except Exception as exc:
            log.exception("%s request %s could not commit", adapter.slug, call.request_id)
            self.held.rollback()
            call.journal.outcome = Rejection.UNEXPECTED.value
            call.journal.error = f"not committed: {type(exc).__name__}: {str(exc)[:500]}"
            refusal = safe_refusal(adapter, self, Rejection.UNEXPECTED, "internal error, try again")
            journal.write_inbound(adapter, call, refusal, latency_us)
            return refusal


def endpoint(adapter: ProviderAdapter, *, unknown_path: bool = False) -> Callable[..., Any]:
    """The Django view of one provider (``unknown_path``: of its paths that name nothing)."""
    view = ProviderCallbackView.as_view(adapter=adapter, unknown_path=unknown_path)
    view.__name__ = f"{adapter.slug}_endpoint"
    return view


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

    A host Django allowed before is allowed again without asking it (decision 0008).
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
        raise HostNotServed(f"Host {str(host)[:80]!r} is not one we serve") from None
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
        raise BodyTooLarge(f"body of {declared} bytes is over {limit}")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(f"body is over {limit} bytes")
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
        raise BodyTooLarge(f"chunked body is over {limit} bytes")
    return b"".join(parts)
