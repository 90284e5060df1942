"""The request id and headers a JDB call is journaled with, read from the WSGI environ.

A provider's ``X-Request-ID`` is echoed and journaled (cut to 64 characters); without one we
make our own. The journal keeps the request's headers with the secret ones masked. Checked on a
real cancel, whose refund must stand.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from journal.models import JournalEntry
from providers.jdb.client import build_request
from providers.journal import REDACTED
from tests.helpers import balance, ledger_kinds
from tests.providers.jdb.jdb_wire import CNY_PLAYER, cancel_debits, debit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chen", "ledger_is_consistent")]


def _post(client: Client, payload: dict[str, object], **headers: str) -> tuple[str, Any]:
    signed = build_request(payload)
    response = client.generic(
        "POST", signed.path, signed.body, content_type=signed.content_type, headers=headers
    )
    assert response.status_code == 200
    return response["X-Request-ID"], response.json()


def test_the_providers_request_id_is_echoed_and_journaled_with_masked_headers(
    client: Client,
) -> None:
    _post(client, debit(7101, "25"))
    request_id = "jdb-" + "r" * 80

    echoed, answer = _post(
        client,
        cancel_debits(7102, "25", [7101]),
        **{"X-Request-ID": request_id, "Authorization": "Bearer secret-token"},
    )

    assert answer == {"status": "0000", "balance": "1000.00", "err_text": ""}
    assert balance(CNY_PLAYER, "CNY") == Decimal("1000")
    assert ledger_kinds("7101", "jdb") == [("stake", Decimal("-25")), ("refund", Decimal("25"))]
    row = JournalEntry.objects.get(request_id=request_id[:64])
    assert echoed == request_id[:64]
    assert row.action == "11 Cancel Bet" and row.outcome == "cancelled"
    assert row.headers["x-request-id"] == request_id
    assert row.headers["authorization"] == REDACTED
    assert row.headers["content-type"] == "application/x-www-form-urlencoded"


def test_without_a_request_id_we_make_one(client: Client) -> None:
    echoed, answer = _post(client, debit(7103, "10"))

    assert answer["status"] == "0000" and balance(CNY_PLAYER, "CNY") == Decimal("990")
    assert len(echoed) == 32 and int(echoed, 16) >= 0
    assert JournalEntry.objects.get(request_id=echoed).bet_key == "7103"
