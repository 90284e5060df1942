"""Paths under /providers/ that name no endpoint: the provider's own error, journaled, no money.

A provider that misconfigures a URL (a deeper path, a typo in its own prefix) must read an
answer in its own format, and support must find the request in the journal; never Django's
HTML 404 page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from journal.models import JournalEntry
from providers.jdb.client import build_request
from tests.helpers import balance
from tests.providers.conftest import Sent
from tests.providers.jdb.jdb_wire import CNY_PLAYER, debit
from wallet.models import Player


def test_a_jdb_bet_on_a_deeper_path_is_refused_in_jdbs_format(
    send: Callable[..., Sent], chen: Player
) -> None:
    signed = replace(build_request(debit(71, "5.00")), path="/providers/jdb/v2/bet")

    sent = send(signed)

    assert sent.status == 200  # JDB reads every answer as HTTP 200 + status code
    assert sent.json["status"] == "8000"
    assert "/providers/jdb/v2/bet" in sent.json["err_text"]
    assert balance(CNY_PLAYER, "CNY") == Decimal("1000.00")
    entry = JournalEntry.objects.get()
    assert (entry.provider, entry.outcome, entry.path, entry.action) == (
        "jdb",
        "unknown_action",
        "/providers/jdb/v2/bet",
        "no endpoint: /providers/jdb/v2/bet",
    )


def test_the_endpoint_itself_answers_with_and_without_the_slash(
    send: Callable[..., Sent], chen: Player
) -> None:
    signed = build_request(debit(72, "1.00"))

    first = send(replace(signed, path="/providers/jdb/"))
    repeat = send(replace(signed, path="/providers/jdb"))

    assert (first.json["status"], repeat.json["status"]) == ("0000", "0000")
    assert balance(CNY_PLAYER, "CNY") == Decimal("999.00")  # the repeat moved nothing
