"""Paths under /providers/ that name no endpoint: the provider's own error, journaled, no money.

A provider that misconfigures a URL (a deeper path, a typo in its own prefix) must read an
answer in its own format, and support must find the request in the journal; never Django's
HTML 404 page.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from journal.models import JournalEntry
from tests.helpers import balance
from tests.providers.naga.conftest import Naga, assert_no_money_moved, place_bet_data


def test_a_naga_function_under_a_deeper_path_is_refused_in_nagas_format(
    naga: Naga, alice_token: str
) -> None:
    signed = naga.request("place-bet", place_bet_data(alice_token))

    sent = naga.post(replace(signed, path=signed.path.rstrip("/") + "/again"))

    assert sent.status == 404
    assert sent.json["error"]["statusCode"] == 404
    assert_no_money_moved()
    assert balance("alice", "USD") == Decimal("100.00")
    assert JournalEntry.objects.get().outcome == "unknown_action"
