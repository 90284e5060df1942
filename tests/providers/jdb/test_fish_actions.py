"""Actions 13 (Withdraw), 14 (Deposit) and 15 (Cancel Withdraw): they mirror 9, 10 and 11,
and their answers carry no balance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, bet, ledger_kinds
from tests.providers.jdb.jdb_wire import (
    CNY_PLAYER,
    assert_journal,
    cancel_withdraw,
    credit,
    debit,
)
from wallet.models import BetState

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("chen", "ledger_is_consistent"),
]

D = Decimal


def chen_balance() -> Decimal:
    return balance(CNY_PLAYER, "CNY")


def test_withdraw_debits_and_answers_without_balance(jdb, last_journal) -> None:
    sent = jdb(debit(4001, "50", action=13))
    assert sent.json == {"status": "0000", "err_text": ""}
    assert chen_balance() == D("950")
    assert ledger_kinds("4001", "jdb") == [("stake", D("-50"))]
    assert_journal(
        last_journal(), action="13 Withdraw", status="0000", outcome="ok", bet_key="4001"
    )


def test_withdraw_short_of_funds_is_6006_without_balance(jdb) -> None:
    assert jdb(debit(4002, "1000.01", action=13)).json == {
        "status": "6006",
        "err_text": "player balance is insufficient",
    }
    assert chen_balance() == D("1000")


def test_deposit_credits_the_withdrawal(jdb, last_journal) -> None:
    jdb(debit(4003, "50", action=13))
    sent = jdb(credit(4004, "80.25", [4003], action=14))
    assert sent.json == {"status": "0000", "err_text": ""}
    assert chen_balance() == D("1030.25")
    assert bet("4003", "jdb").state == BetState.SETTLED
    assert_journal(last_journal(), action="14 Deposit", status="0000", outcome="ok", bet_key="4003")


def test_deposit_for_unknown_withdrawal_is_9015(jdb) -> None:
    assert jdb(credit(4005, "1", [49999], action=14)).json["status"] == "9015"
    assert chen_balance() == D("1000")


def test_cancel_withdraw_refunds_one_withdrawal(jdb, last_journal) -> None:
    jdb(debit(4006, "50", action=13))
    sent = jdb(cancel_withdraw(4007, "50", 4006))
    assert sent.json == {"status": "0000", "err_text": ""}
    assert chen_balance() == D("1000")
    assert ledger_kinds("4006", "jdb") == [("stake", D("-50")), ("refund", D("50"))]
    assert_journal(
        last_journal(),
        action="15 Cancel Withdraw",
        status="0000",
        outcome="cancelled",
        bet_key="4006",
        is_cancel=True,
    )


def test_cancel_withdraw_with_another_amount_is_8000(jdb) -> None:
    jdb(debit(4008, "50", action=13))
    assert jdb(cancel_withdraw(4009, "49", 4008)).json["status"] == "8000"
    assert chen_balance() == D("950")


def test_cancel_withdraw_after_its_deposit_is_9999(jdb) -> None:
    jdb(debit(4010, "50", action=13))
    jdb(credit(4011, "10", [4010], action=14))
    assert jdb(cancel_withdraw(4012, "50", 4010)).json["status"] == "9999"
    assert chen_balance() == D("960")


def test_cancel_withdraw_before_the_withdrawal_tombstones_it(jdb) -> None:
    assert jdb(cancel_withdraw(4013, "50", 4014)).json["status"] == "0000"
    assert jdb(debit(4014, "50", action=13)).json["status"] == "9015"
    assert chen_balance() == D("1000")
