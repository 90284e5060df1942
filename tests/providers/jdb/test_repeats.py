"""Cancels and settles repeated with other content (issue 21, item 2), through the real HTTP path.

common.md: a request reusing an id with other content moves no money, gets the provider's
duplicate error (JDB ``9011``) and is flagged; a cancel whose amount is not the stored stake
gets a parameter error (``8000``) and is flagged, also when the bet was already cancelled.
Every test checks the answer, the balance, the bet's flag and the ledger rows.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, bet, ledger_kinds
from tests.providers.jdb.jdb_wire import (
    MYR_PLAYER,
    assert_journal,
    cancel_debits,
    cancel_withdraw,
    credit,
    debit,
)
from wallet.models import BetState

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("chen", "dana", "ledger_is_consistent"),
]

D = Decimal
REFUNDED = [("stake", D("-10")), ("refund", D("10"))]


def chen() -> Decimal:
    return balance("chen", "CNY")


def test_the_issues_sequence_same_id_other_amount_is_9011_new_id_is_8000(jdb, last_journal) -> None:
    assert jdb(debit(5001, "10")).json["status"] == "0000"
    first = jdb(cancel_debits(5002, "10", [5001]))
    assert first.json == {"status": "0000", "balance": "1000.00", "err_text": ""}
    assert not bet("5001", "jdb").needs_review

    reused = jdb(cancel_debits(5002, "99", [5001]))
    assert reused.json["status"] == "9011" and reused.json["balance"] == "1000.00"
    assert "reused" in reused.json["err_text"]
    flagged = bet("5001", "jdb")
    assert flagged.needs_review and "5002" in flagged.review_reason
    assert flagged.state == BetState.CANCELLED
    assert_journal(
        last_journal(),
        action="11 Cancel Bet",
        status="9011",
        outcome="mismatch",
        bet_key="5001",
        is_cancel=True,
    )

    other_id = jdb(cancel_debits(5003, "99", [5001]))
    assert other_id.json["status"] == "8000" and other_id.json["balance"] == "1000.00"
    assert "differs" in bet("5001", "jdb").review_reason
    assert last_journal().outcome == "amount_mismatch"

    # The same cancel again, as JDB retries it: still the first answer, nothing moves.
    assert jdb(cancel_debits(5002, "10", [5001])).json == first.json
    assert jdb(cancel_debits(5004, "10", [5001])).json["status"] == "0000"
    assert chen() == D("1000")
    assert ledger_kinds("5001", "jdb") == REFUNDED


def test_a_tombstones_repeat_is_checked_against_the_first_cancels_amount(jdb) -> None:
    assert jdb(cancel_debits(5010, "10", [5011])).json["status"] == "0000"
    assert bet("5011", "jdb").state == BetState.TOMBSTONE
    assert not bet("5011", "jdb").needs_review

    reused = jdb(cancel_debits(5010, "99", [5011]))
    # The balance is the player's, though the tombstone holds no wallet.
    assert (reused.json["status"], reused.json["balance"]) == ("9011", "1000.00")
    assert bet("5011", "jdb").needs_review
    assert jdb(cancel_debits(5012, "99", [5011])).json["status"] == "8000"
    assert jdb(cancel_debits(5012, "10", [5011])).json["status"] == "0000"
    assert chen() == D("1000")
    assert ledger_kinds("5011", "jdb") == []
    # The late bet is still refused: the tombstone stands, whatever the repeats said.
    assert jdb(debit(5011, "10")).json["status"] == "9015"
    assert chen() == D("1000")


def test_a_refused_bets_cancel_repeated_with_another_amount_is_9011(jdb) -> None:
    assert jdb(debit(5020, "5000")).json["status"] == "6006"
    assert jdb(cancel_debits(5021, "5000", [5020])).json["status"] == "0000"
    reused = jdb(cancel_debits(5021, "99", [5020]))
    assert reused.json["status"] == "9011" and reused.json["balance"] == "1000.00"
    refused = bet("5020", "jdb")
    assert refused.state == BetState.REFUSED and refused.needs_review
    assert chen() == D("1000") and ledger_kinds("5020", "jdb") == []


def test_cancel_withdraw_repeated_with_another_amount_is_9011(jdb) -> None:
    jdb(debit(5030, "10", action=13))
    assert jdb(cancel_withdraw(5031, "10", 5030)).json["status"] == "0000"
    reused = jdb(cancel_withdraw(5031, "11", 5030))
    assert reused.json["status"] == "9011" and "balance" not in reused.json  # 15: no balance
    assert bet("5030", "jdb").needs_review
    assert jdb(cancel_withdraw(5032, "11", 5030)).json["status"] == "8000"
    assert chen() == D("1000") and ledger_kinds("5030", "jdb") == REFUNDED


def test_settle_repeated_with_another_amount_is_9011_and_flags(jdb, last_journal) -> None:
    jdb(debit(5040, "10"))
    assert jdb(credit(5041, "30", [5040])).json["balance"] == "1020.00"
    again = jdb(credit(5041, "99", [5040]))
    assert again.json["status"] == "9011" and again.json["balance"] == "1020.00"
    assert bet("5040", "jdb").needs_review and "30" in bet("5040", "jdb").review_reason
    assert last_journal().outcome == "mismatch"
    assert chen() == D("1020")
    assert ledger_kinds("5040", "jdb") == [("stake", D("-10")), ("win", D("30"))]


def test_settle_repeated_by_another_player_is_9011_with_the_callers_balance(jdb) -> None:
    jdb(debit(5050, "10"))
    jdb(credit(5051, "30", [5050]))
    other = jdb(credit(5051, "30", [5050], uid=MYR_PLAYER, currency="RM"))
    assert other.json["status"] == "9011"
    assert other.json["balance"] == "40.00"  # dana's own, never chen's
    assert bet("5050", "jdb").needs_review
    assert chen() == D("1020") and balance(MYR_PLAYER, "MYR") == D("40")
    assert ledger_kinds("5050", "jdb") == [("stake", D("-10")), ("win", D("30"))]
