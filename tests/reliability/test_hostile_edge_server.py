"""Hostile input at the provider edge against the real app server (granian), for every provider:
a chunked body with no Content-Length, a Host we do not serve, a doubled slash before the
provider's prefix. Each answer is read in the provider's format, with its journal row and the
balance checked.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from journal.models import JournalEntry
from providers import demo_keys
from providers.client_base import SignedRequest
from tests.app_server import AppServer, server_environment
from tests.helpers import ON_POSTGRES, balance
from tests.reliability.conftest import gambler
from tests.reliability.flows import Answer, Flows, read_answer

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="the app server runs on PostgreSQL here"),
    pytest.mark.django_db(transaction=True),
]

D = Decimal
PROVIDERS = ("jdb", "vp", "naga", "buffalo")
SUCCESS = {"jdb": "0000", "vp": "0000", "naga": "200", "buffalo": "OK"}
TRY_AGAIN = {"jdb": "9017", "vp": "9999", "naga": "503 Temporarily unavailable"}
TRY_AGAIN["buffalo"] = "TEMPORARY_ERROR"
UNKNOWN_PATH = {"jdb": "8000", "vp": "9999", "naga": "404 Unknown function"}
UNKNOWN_PATH["buffalo"] = "UNKNOWN_ERROR"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, django_db_setup: None) -> Iterator[AppServer]:
    """One server for the module, on the test database (made by ``django_db_setup``)."""
    log = Path(tmp_path_factory.mktemp("server")) / "server.log"
    started = AppServer(server_environment(), log, workers=1, threads=2).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(autouse=True)
def _demo_naga_key(settings: Any) -> None:
    # The server verifies with the demo public key (server_environment): sign with its pair.
    settings.NAGA_CLIENT_PRIVATE_KEY = demo_keys.NAGA_PRIVATE_KEY_PATH


def bet_request(provider: str) -> SignedRequest:
    who = gambler("alice", "USD", "100")
    flow = "jdb9" if provider == "jdb" else provider
    return Flows().open(flow, who, "9001", D("10"), D("4")).signed()


def send(
    server: AppServer,
    provider: str,
    request: SignedRequest,
    *,
    path: str = "",
    host: str = "",
    chunks: int = 0,
) -> Answer:
    """POST over a socket of our own: ``chunks`` > 0 sends the body in that many chunks,
    with ``Transfer-Encoding: chunked`` and no Content-Length."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        connection.putrequest("POST", path or request.path, skip_host=True)
        connection.putheader("Host", host or f"127.0.0.1:{server.port}")
        connection.putheader("Content-Type", request.content_type)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        body = request.body
        if chunks:
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            size = -(-len(body) // chunks)
            for start in range(0, len(body), size):
                part = body[start : start + size]
                connection.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            connection.send(b"0\r\n\r\n")
        else:
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
        response = connection.getresponse()
        raw = response.read()
        return read_answer(provider, response.status, raw, response.getheader("Content-Type", ""))
    finally:
        connection.close()


def last_row() -> JournalEntry:
    row = JournalEntry.objects.order_by("-id").first()
    assert row is not None
    return row


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_chunked_bet_is_read_and_taken(server: AppServer, provider: str) -> None:
    request = bet_request(provider)

    answer = send(server, provider, request, chunks=3)

    assert answer.code == SUCCESS[provider], answer.body
    assert balance() == (D("94") if provider == "vp" else D("90"))
    row = last_row()
    assert (row.provider, row.bet_key, row.body_bytes) == (provider, "9001", len(request.body))
    assert "content-length" not in row.headers and row.headers["transfer-encoding"] == "chunked"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_host_we_do_not_serve_gets_the_providers_try_again(
    server: AppServer, provider: str
) -> None:
    answer = send(server, provider, bet_request(provider), host="evil.example")

    assert answer.content_type == "application/json"
    assert answer.code == TRY_AGAIN[provider], answer.body
    assert (last_row().provider, last_row().outcome) == (provider, "bad_host")
    assert balance() == D("100")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_doubled_slash_gets_the_providers_json_refusal(server: AppServer, provider: str) -> None:
    request = bet_request(provider)
    path = "/" + request.path

    answer = send(server, provider, request, path=path)

    assert answer.content_type == "application/json"
    assert answer.code == UNKNOWN_PATH[provider], answer.body
    row = last_row()
    assert (row.provider, row.outcome) == (provider, "unknown_action")
    assert row.path == path.split("?")[0]
    assert balance() == D("100")
