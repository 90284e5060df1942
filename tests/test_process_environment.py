"""The real app server copies its process environment into every request's environ (granian
does): a header-shaped variable there, HTTP_PROXY with credentials, must not become a header of
the provider's request, in the journal or anywhere else."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from journal.models import JournalEntry
from providers.jdb.client import build_request
from tests.app_server import AppServer, server_environment
from tests.helpers import ON_POSTGRES, balance, make_player
from tests.providers.jdb.jdb_wire import CNY_PLAYER, debit

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="the app server runs on PostgreSQL here"),
    pytest.mark.django_db(transaction=True),
]

PROXY = "http://operator:proxy-secret@proxy.internal:3128"


def test_the_servers_http_proxy_variable_is_not_a_request_header(tmp_path: Path) -> None:
    make_player(CNY_PLAYER, "CNY", "1000")
    env: dict[str, Any] = {**server_environment(), "HTTP_PROXY": PROXY}
    server = AppServer(env, tmp_path / "server.log", workers=1, threads=2).start()
    try:
        signed = build_request(debit(601, "10"))
        response = requests.post(
            server.url + signed.path,
            data=signed.body,
            headers={"Content-Type": signed.content_type},
            timeout=10,
        )
    finally:
        server.stop()

    assert response.json()["status"] == "0000"
    assert balance(CNY_PLAYER, "CNY") == Decimal("990")
    headers = JournalEntry.objects.get(provider="jdb", bet_key="601").headers
    assert "proxy" not in headers and "proxy-secret" not in str(headers), headers
    assert headers["host"] == server.url.removeprefix("http://")
