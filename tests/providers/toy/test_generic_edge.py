"""The provider edge is generic: a provider with its own parser, authentication and renderer
moves money, refuses in its own format and is journaled, with no change to the edge itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from journal.models import JournalEntry
from tests.helpers import balance, make_player
from tests.providers.toy.provider import TOY_KEY
from wallet.models import LedgerEntry

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.providers.toy.urls")]


def toy(client: Client, body: str, *, key: str = TOY_KEY, method: str = "POST") -> str:
    response = client.generic(
        method, "/toy/", body.encode(), content_type="text/plain", HTTP_X_TOY_KEY=key
    )
    assert response["Content-Type"] == "text/plain", response.content
    return response.content.decode()


def test_a_toy_bet_and_cancel_move_money_through_the_generic_edge(client: Client) -> None:
    make_player("alice", "USD", "100")
    assert toy(client, "do=bet\nplayer=alice\nbet=t1\namount=30") == (
        "code=OK\noutcome=ok\nbalance=70.000000\n"
    )
    assert toy(client, "do=cancel\nplayer=alice\nbet=t1").startswith("code=OK\noutcome=cancelled")
    assert balance() == Decimal("100")
    assert [e.signature_form for e in JournalEntry.objects.filter(provider="toy")] == [
        "toy-key",
        "toy-key",
    ]


@pytest.mark.parametrize(
    ("body", "key", "method", "why"),
    [
        ("do=bet\nplayer=alice\nbet=t1\namount=30", "wrong", "POST", "auth_failed"),
        ("this is not key value", TOY_KEY, "POST", "bad_input"),
        ("do=bet\nplayer=alice\nbet=t1\namount=1e999", TOY_KEY, "POST", "bad_input"),
        ("do=dance", TOY_KEY, "POST", "unknown_action"),
        ("do=bet\nplayer=alice\nbet=t1\namount=30", TOY_KEY, "GET", "bad_input"),
    ],
)
def test_toy_refusals_are_its_own_format_and_journaled(
    client: Client, body: str, key: str, method: str, why: str
) -> None:
    make_player("alice", "USD", "100")
    assert toy(client, body, key=key, method=method) == f"code=REFUSED\nwhy={why}\n"
    entry = JournalEntry.objects.get(provider="toy")
    assert entry.outcome == why
    assert balance() == Decimal("100") and not LedgerEntry.objects.filter(kind="stake").exists()
