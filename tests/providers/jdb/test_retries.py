"""JDB retries settles and cancels for hours: the same request 60 times leaves one effect."""

from __future__ import annotations

from decimal import Decimal

import pytest

from journal.models import JournalEntry
from tests.helpers import balance, bet, ledger_kinds
from tests.providers.jdb.jdb_wire import (
    CNY_PLAYER,
    bet_n_settle,
    cancel_bet_n_settle,
    cancel_debits,
    credit,
    debit,
)
from wallet.models import BetState

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("chen", "ledger_is_consistent"),
]

D = Decimal
TIMES = 60


def send_many(jdb, payload: dict) -> set[str]:
    """Send the same request TIMES times; the set of distinct answers that came back."""
    return {str(jdb(payload).json) for _ in range(TIMES)}


def journal_rows(bet_key: str, action: str) -> int:
    return JournalEntry.objects.filter(provider="jdb", bet_key=bet_key, action=action).count()


def test_action_4_sixty_times_keeps_the_round_once(jdb) -> None:
    jdb(bet_n_settle(6001, "-10", "25"))
    answers = send_many(jdb, cancel_bet_n_settle(6001))
    assert len(answers) == 1 and "'status': '6101'" in answers.pop()
    assert balance(CNY_PLAYER, "CNY") == D("1015")
    assert ledger_kinds("6001", "jdb") == [("stake", D("-10")), ("win", D("25"))]
    assert journal_rows("6001", "4 Cancel BetNSettle") == TIMES


def test_action_4_sixty_times_reverses_once(jdb, settings) -> None:
    settings.JDB_CANCEL_SETTLED = "reverse"
    jdb(bet_n_settle(6002, "-10", "25"))
    answers = send_many(jdb, cancel_bet_n_settle(6002))
    assert answers == {str({"status": "0000", "balance": "1000.00", "err_text": ""})}
    assert ledger_kinds("6002", "jdb")[-1] == ("reversal", D("-15"))
    assert len(ledger_kinds("6002", "jdb")) == 3


def test_action_4_sixty_times_before_its_bet_tombstones_once(jdb) -> None:
    answers = send_many(jdb, cancel_bet_n_settle(6003))
    assert answers == {str({"status": "0000", "balance": "1000.00", "err_text": ""})}
    assert jdb(bet_n_settle(6003, "-10", "25")).json["status"] == "9015"
    assert balance(CNY_PLAYER, "CNY") == D("1000")


def test_action_10_sixty_times_credits_once(jdb) -> None:
    jdb(debit(6010, "10"))
    answers = send_many(jdb, credit(6011, "30", [6010]))
    assert answers == {str({"status": "0000", "balance": "1020.00", "err_text": ""})}
    assert ledger_kinds("6010", "jdb") == [("stake", D("-10")), ("win", D("30"))]
    assert journal_rows("6010", "10 Settle") == TIMES


def test_action_11_sixty_times_refunds_once(jdb) -> None:
    jdb(debit(6020, "10"))
    answers = send_many(jdb, cancel_debits(6021, "10", [6020]))
    assert answers == {str({"status": "0000", "balance": "1000.00", "err_text": ""})}
    assert ledger_kinds("6020", "jdb") == [("stake", D("-10")), ("refund", D("10"))]
    assert bet("6020", "jdb").state == BetState.CANCELLED


def test_action_14_sixty_times_deposits_once(jdb) -> None:
    jdb(debit(6030, "50", action=13))
    answers = send_many(jdb, credit(6031, "80", [6030], action=14))
    assert answers == {str({"status": "0000", "err_text": ""})}
    assert balance(CNY_PLAYER, "CNY") == D("1030")
    assert ledger_kinds("6030", "jdb") == [("stake", D("-50")), ("win", D("80"))]


def test_action_11_retried_after_it_was_refused_for_a_settled_bet_stays_refused(jdb) -> None:
    jdb(debit(6040, "10"))
    jdb(credit(6041, "5", [6040]))
    answers = send_many(jdb, cancel_debits(6042, "10", [6040]))
    assert len(answers) == 1 and "'status': '9999'" in answers.pop()
    assert balance(CNY_PLAYER, "CNY") == D("995")
