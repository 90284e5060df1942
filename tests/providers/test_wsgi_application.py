"""backoffice.wsgi: provider callbacks through the lean handler, the admin through the full one.

These drive the WSGI application itself (what the app server calls), not Django's test client,
which has its own handler with the site's whole middleware list.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from django.core.signals import request_finished
from django.test import RequestFactory

from backoffice.wsgi import ProviderHandler, application
from journal.models import JournalEntry
from providers.client_base import SignedRequest
from providers.jdb.client import build_request
from tests.helpers import balance, make_player
from tests.providers.jdb.jdb_wire import CNY_PLAYER, debit

# The request signals close the connection after each request, as in production: no test
# transaction may be open around these calls.
pytestmark = pytest.mark.django_db(transaction=True)


class Answer:
    def __init__(self, application_answer: Any) -> None:
        self.status = ""
        self.headers: dict[str, str] = {}
        self.cookies: list[str] = []
        self.body = b""
        self.iterable: Any = None
        self._answer = application_answer

    def start_response(self, status: str, headers: list[tuple[str, str]]) -> None:
        self.status = status
        for name, value in headers:
            if name.lower() == "set-cookie":
                self.cookies.append(value)
            self.headers[name.lower()] = value


def call(method: str, signed: SignedRequest) -> Answer:
    request = RequestFactory().generic(
        method,
        signed.path,
        signed.body,
        content_type=signed.content_type,
        headers=signed.headers,
        REMOTE_ADDR="127.0.0.1",
    )
    answer = Answer(None)
    body = application(request.environ, answer.start_response)
    answer.iterable = body
    try:
        answer.body = b"".join(body)
    finally:
        if hasattr(body, "close"):  # as a WSGI server does
            body.close()
    return answer


def test_provider_callbacks_use_the_lean_handler_and_still_move_money() -> None:
    make_player(CNY_PLAYER, "CNY", "1000")

    answer = call("POST", build_request(debit(501, "12.50")))

    assert answer.status == "200 OK"
    assert b'"status":"0000"' in answer.body
    assert balance(CNY_PLAYER, "CNY") == Decimal("987.50")
    entry = JournalEntry.objects.get(provider="jdb", bet_key="501")
    assert entry.outcome == "ok"
    # No admin middleware ran: no clickjacking header, no session or CSRF cookie, no
    # "Vary: Cookie"; SecurityMiddleware's headers are still there.
    assert "x-frame-options" not in answer.headers
    assert answer.cookies == []
    assert "cookie" not in answer.headers.get("vary", "").lower()
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_provider_answer_is_one_buffer_and_django_has_finished_the_request() -> None:
    """Handed over as a list (one write for the server), after request_finished has run."""
    finished: list[object] = []

    def receiver(sender: object, **kwargs: object) -> None:
        finished.append(sender)

    request_finished.connect(receiver)
    try:
        make_player(CNY_PLAYER, "CNY", "100")
        answer = call("POST", build_request(debit(502, "10")))
    finally:
        request_finished.disconnect(receiver)

    assert isinstance(answer.iterable, list) and len(answer.iterable) == 1
    assert b'"status":"0000"' in answer.body
    assert len(finished) == 1
    assert balance(CNY_PLAYER, "CNY") == Decimal("90")


def test_bad_input_on_the_lean_handler_is_the_providers_own_error() -> None:
    make_player(CNY_PLAYER, "CNY", "1000")

    answer = call("POST", SignedRequest(path="/providers/jdb/", body=b"x=%%%", content_type=""))

    assert answer.status == "200 OK"
    assert answer.headers["content-type"] == "application/json"
    assert b'"status":"9' in answer.body  # a JDB error code, not an HTML page
    assert balance(CNY_PLAYER, "CNY") == Decimal("1000.00")
    assert JournalEntry.objects.filter(provider="jdb").count() == 1


def test_the_admin_keeps_the_whole_middleware() -> None:
    answer = call("GET", SignedRequest(path="/admin/login/", body=b""))

    assert answer.status == "200 OK"
    assert answer.headers["x-frame-options"] == "DENY"
    assert any(cookie.startswith(" csrftoken=") for cookie in answer.cookies), answer.cookies


def test_the_provider_handler_loads_only_the_provider_middleware(settings: Any) -> None:
    site_middleware = list(settings.MIDDLEWARE)

    handler = ProviderHandler()

    # The chain is the outermost middleware, wrapped by convert_exception_to_response; the
    # one inside it is the view-calling end of the handler itself.
    outermost = handler._middleware_chain.__wrapped__  # type: ignore[attr-defined]
    assert type(outermost).__name__ == "SecurityMiddleware"
    assert outermost.get_response.__wrapped__ == handler._get_response
    assert settings.MIDDLEWARE == site_middleware  # put back after loading


def test_endpoint_paths_are_looked_up_as_django_resolves_them() -> None:
    from django.urls import get_resolver

    from providers.registry import adapters

    table = ProviderHandler()._endpoint_matches
    resolver = get_resolver()
    expected = 0
    for slug, adapter in adapters().items():
        for function in adapter.functions or ("",):
            path = f"/providers/{slug}/{function}/".replace("//", "/")
            for variant in (path, path.rstrip("/")):
                django_match = resolver.resolve(variant)
                assert table[variant].func is django_match.func, variant
                assert table[variant].kwargs == django_match.kwargs, variant
                expected += 1
    assert len(table) == expected  # the endpoints and nothing else (no catch-all path)


def test_paths_outside_the_table_are_resolved_by_django() -> None:
    make_player(CNY_PLAYER, "CNY", "1000")
    handler = ProviderHandler()
    assert "/providers/jdb/deeper/" not in handler._endpoint_matches

    deeper = call("POST", SignedRequest(path="/providers/jdb/deeper/", body=b"x=1"))
    nowhere = call("POST", SignedRequest(path="/providers/nobody/", body=b"x=1"))
    no_slash = call(
        "POST", dataclasses.replace(build_request(debit(502, "1.00")), path="/providers/jdb")
    )

    assert b'"status":"8000"' in deeper.body  # JDB's own refusal, journaled as such
    assert JournalEntry.objects.filter(action__startswith="no endpoint").count() == 1
    assert nowhere.status.startswith("404") and b"no provider endpoint" in nowhere.body
    assert b'"status":"0000"' in no_slash.body  # the table holds the path without its slash
    assert balance(CNY_PLAYER, "CNY") == Decimal("999.00")


PROXY = "http://operator:proxy-secret@proxy.internal:3128"


def test_a_header_that_only_the_process_environment_holds_is_not_the_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """granian copies the process environment into every environ: HTTP_PROXY there must not
    read as a "Proxy" header the client sent (nor be journaled, credentials and all)."""
    monkeypatch.setattr("backoffice.wsgi._PROCESS_HEADERS", {"HTTP_PROXY": PROXY})
    make_player(CNY_PLAYER, "CNY", "1000")
    signed = build_request(debit(503, "10"))

    answer = call("POST", dataclasses.replace(signed, headers={**signed.headers, "Proxy": PROXY}))

    assert b'"status":"0000"' in answer.body and balance(CNY_PLAYER, "CNY") == Decimal("990")
    headers = JournalEntry.objects.get(provider="jdb", bet_key="503").headers
    assert "proxy" not in headers and "proxy-secret" not in str(headers)
    assert headers["content-type"] == "application/x-www-form-urlencoded"


def test_a_header_the_client_really_sent_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("backoffice.wsgi._PROCESS_HEADERS", {"HTTP_PROXY": PROXY})
    make_player(CNY_PLAYER, "CNY", "1000")
    signed = build_request(debit(504, "10"))

    call("POST", dataclasses.replace(signed, headers={**signed.headers, "Proxy": "other"}))

    assert JournalEntry.objects.get(provider="jdb", bet_key="504").headers["proxy"] == "other"
