"""cancel and credit repeated with other content (issue 21, item 2), through the real endpoint.

buffalo.md answers a plain repeat with ``BET_ALREADY_SETTLED``; a repeat that says otherwise
(another amount under the same ``transaction.id``, or an amount that is not the stored stake)
moves no money, is flagged, and is answered ``INVALID_PARAMETER``, Buffalo's parameter error
(common.md: an id reused with other content; cancel rule 1: an amount that is not the stake).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.helpers import balance, bet, ledger_kinds
from tests.providers.buffalo.conftest import Gambler, answered, journaled
from tests.providers.conftest import Sent
from wallet.models import BetState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal
Call = Callable[..., Sent]
REFUNDED = [("stake", D("-10")), ("refund", D("10"))]


def test_a_cancel_repeated_with_another_amount_is_invalid_parameter_and_flagged(
    buffalo: Call, alice: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    first = alice.tx("ref-1", "10")
    answered(buffalo("cancel", first), first, "OK", "1000")
    assert not bet("ref-1", "buffalo").needs_review

    reused = alice.tx("ref-1", "99")  # the same transaction.id, another amount
    answered(buffalo("cancel", reused), reused, "INVALID_PARAMETER", "1000")
    journaled(reused, action="cancel", outcome="mismatch", bet_key="ref-1")
    flagged = bet("ref-1", "buffalo")
    assert flagged.needs_review and flagged.state == BetState.CANCELLED

    other_id = alice.tx("ref-1", "99", tx_id="cancel-2")
    answered(buffalo("cancel", other_id), other_id, "INVALID_PARAMETER", "1000")
    journaled(other_id, action="cancel", outcome="amount_mismatch", bet_key="ref-1")

    plain = alice.tx("ref-1", "10")  # a plain repeat keeps Evolution's answer
    answered(buffalo("cancel", plain), plain, "BET_ALREADY_SETTLED", "1000")
    assert balance("alice") == D("1000") and ledger_kinds("ref-1", "buffalo") == REFUNDED


def test_a_tombstones_repeat_with_another_amount_is_invalid_parameter(
    buffalo: Call, alice: Gambler
) -> None:
    first = alice.tx("ref-early", "10")
    answered(buffalo("cancel", first), first, "BET_DOES_NOT_EXIST", "1000")
    reused = alice.tx("ref-early", "99")
    answered(buffalo("cancel", reused), reused, "INVALID_PARAMETER", "1000")
    tomb = bet("ref-early", "buffalo")
    assert tomb.state == BetState.TOMBSTONE and tomb.needs_review
    again = alice.tx("ref-early", "10")
    answered(buffalo("cancel", again), again, "BET_DOES_NOT_EXIST", "1000")
    assert balance("alice") == D("1000") and ledger_kinds("ref-early", "buffalo") == []


def test_a_credit_repeated_with_another_amount_is_invalid_parameter_and_flagged(
    buffalo: Call, alice: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    buffalo("credit", alice.tx("ref-1", "25", tx_id="win-1"))
    reused = alice.tx("ref-1", "99", tx_id="win-1")
    answered(buffalo("credit", reused), reused, "INVALID_PARAMETER", "1015")
    journaled(reused, action="credit", outcome="mismatch", bet_key="ref-1")
    assert bet("ref-1", "buffalo").needs_review
    assert balance("alice") == D("1015")
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10")), ("win", D("25"))]


def test_a_credit_repeated_by_another_player_is_refused_with_their_own_balance(
    buffalo: Call, alice: Gambler, bob: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    buffalo("credit", alice.tx("ref-1", "25", tx_id="win-1"))
    theirs = bob.tx("ref-1", "25", tx_id="win-1")
    answered(buffalo("credit", theirs), theirs, "INVALID_PARAMETER", "250.5")
    assert bet("ref-1", "buffalo").needs_review
    assert balance("alice") == D("1015") and balance("bob") == D("250.50")
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10")), ("win", D("25"))]
