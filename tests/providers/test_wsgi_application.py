"""backoffice.wsgi: provider callbacks through the lean handler, the admin through the full one.

These drive the WSGI application itself (what gunicorn calls), not Django's test client, which
has its own handler with the site's whole middleware list.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import RequestFactory

from backoffice.wsgi import ProviderHandler, application
from providers.client_base import SignedRequest
from providers.jdb.client import build_request
from providers.models import JournalEntry
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
    try:
        answer.body = b"".join(body)
    finally:
        body.close()  # type: ignore[attr-defined]
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
