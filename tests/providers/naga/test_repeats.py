"""cancel-bet and payout repeated with other content (issue 21, item 2), signed like Naga.

A Naga cancel carries no amount: what it can say otherwise is its player (the playerToken). A
payout repeated under its transactionId must name the same bet, amount, player and currency;
anything else is the id reused with other content: 409 ``Duplicate bet``, flagged, no money.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, bet, ledger_kinds
from tests.providers.naga.conftest import Naga, assert_error, journal
from tests.providers.naga.test_contract import BET, cancel, canceled, payout, place
from wallet.models import BetState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal


def test_a_cancel_repeated_with_another_players_token_is_409_and_flagged(
    naga: Naga, alice_token: str, bob_token: str
) -> None:
    place(naga, alice_token)
    assert cancel(naga, token=alice_token).json == canceled()
    assert cancel(naga).json == canceled()  # the same cancel again: the first answer
    assert not bet(BET, "naga").needs_review
    assert_error(cancel(naga, token=bob_token), 409, "Duplicate bet")
    stored = bet(BET, "naga")
    assert stored.needs_review and stored.state == BetState.CANCELLED
    assert journal().outcome == "mismatch"
    assert balance("alice") == D("100") and balance("bob") == D("50")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("refund", D("10"))]


def test_a_payout_repeated_with_another_amount_is_409_and_flagged(
    naga: Naga, alice_token: str
) -> None:
    place(naga, alice_token)
    payout(naga, alice_token, amount="5")
    assert_error(payout(naga, alice_token, amount="99"), 409, "Duplicate bet")
    assert bet(BET, "naga").needs_review and journal().outcome == "mismatch"
    assert balance() == D("95")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("win", D("5"))]


def test_a_payout_repeated_by_another_player_is_409_not_the_first_answer(
    naga: Naga, alice_token: str, bob_token: str
) -> None:
    place(naga, alice_token)
    first = payout(naga, alice_token, amount="5")
    assert first.json["data"]["balance"] == D("95")
    # Same transactionId, bet and amount, but Bob's token: not a repeat of Alice's payout, and
    # Alice's balance must not reach Bob.
    assert_error(payout(naga, bob_token, amount="5"), 409, "Duplicate bet")
    assert bet(BET, "naga").needs_review
    assert balance("alice") == D("95") and balance("bob") == D("50")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("win", D("5"))]
    assert payout(naga, alice_token, amount="5").json == first.json  # Alice's repeat still is


def test_a_payout_repeated_in_another_currency_is_409(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token)
    payout(naga, alice_token, amount="5")
    assert_error(payout(naga, alice_token, amount="5", currency="EUR"), 409, "Duplicate bet")
    assert bet(BET, "naga").needs_review
    assert balance() == D("95")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("win", D("5"))]
