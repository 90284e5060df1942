"""Actions 9 (Bet), 10 (Settle), 11 (Cancel Bet) and jdb.md's "Other cases"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, bet, ledger_kinds
from tests.providers.jdb.jdb_wire import (
    CNY_PLAYER,
    MYR_PLAYER,
    assert_journal,
    cancel_debits,
    credit,
    debit,
)
from wallet.models import BetKind, BetState, LedgerEntry

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("chen", "dana", "ledger_is_consistent"),
]

D = Decimal


def chen_balance() -> Decimal:
    return balance(CNY_PLAYER, "CNY")


# --- Action 9 ----------------------------------------------------------------------------------


def test_bet_debits_the_amount_and_opens_the_bet(jdb, last_journal) -> None:
    sent = jdb(debit(3001, "12.34"))
    assert sent.json == {"status": "0000", "balance": "987.66", "err_text": ""}
    assert ledger_kinds("3001", "jdb") == [("stake", D("-12.34"))]
    opened = bet("3001", "jdb")
    assert opened.state == BetState.OPEN and opened.kind == BetKind.DEBIT
    assert opened.round_id == "30010"
    assert_journal(last_journal(), action="9 Bet", status="0000", outcome="ok", bet_key="3001")


def test_bet_larger_than_the_balance_is_6006(jdb, last_journal) -> None:
    sent = jdb(debit(3002, "1000.000001"))
    assert sent.json["status"] == "6006" and sent.json["balance"] == "1000.00"
    assert chen_balance() == D("1000")
    assert ledger_kinds("3002", "jdb") == []
    assert last_journal().outcome == "insufficient_funds"


def test_repeated_bet_debits_once(jdb) -> None:
    first = jdb(debit(3003, "10"))
    again = jdb(debit(3003, "10"))
    assert first.json == again.json
    assert chen_balance() == D("990")


def test_bet_reusing_a_transfer_id_with_another_amount_is_9011(jdb) -> None:
    jdb(debit(3004, "10"))
    assert jdb(debit(3004, "11")).json["status"] == "9011"
    assert chen_balance() == D("990")
    assert bet("3004", "jdb").needs_review


def test_bet_for_unknown_player_is_7501(jdb) -> None:
    assert jdb(debit(3005, "1", uid="nobody")).json["status"] == "7501"
    assert not LedgerEntry.objects.filter(provider="jdb").exists()


# --- Action 10 ---------------------------------------------------------------------------------


def test_settle_credits_the_amount_and_closes_the_bet(jdb, last_journal) -> None:
    jdb(debit(3010, "10"))
    sent = jdb(credit(3011, "35.5", [3010]))
    assert sent.json == {"status": "0000", "balance": "1025.50", "err_text": ""}
    assert ledger_kinds("3010", "jdb") == [("stake", D("-10")), ("win", D("35.5"))]
    assert bet("3010", "jdb").state == BetState.SETTLED
    assert_journal(last_journal(), action="10 Settle", status="0000", outcome="ok", bet_key="3010")


def test_settle_of_several_bets_credits_once_and_settles_all(jdb) -> None:
    jdb(debit(3012, "10"))
    jdb(debit(3013, "20"))
    assert jdb(credit(3014, "100", [3012, 3013])).json["balance"] == "1070.00"
    assert bet("3012", "jdb").state == bet("3013", "jdb").state == BetState.SETTLED
    assert LedgerEntry.objects.filter(kind="win", provider_tx_id="3014").count() == 1


def test_a_losing_settle_of_zero_closes_the_bet(jdb) -> None:
    jdb(debit(3015, "10"))
    assert jdb(credit(3016, "0", [3015])).json["balance"] == "990.00"
    assert bet("3015", "jdb").state == BetState.SETTLED


def test_round_not_closed_takes_another_settle(jdb) -> None:
    jdb(debit(3017, "10"))
    assert jdb(credit(3018, "5", [3017], roundClosed=False)).json["status"] == "0000"
    assert bet("3017", "jdb").more_settles_expected
    assert jdb(credit(3019, "7", [3017])).json["balance"] == "1002.00"
    assert ledger_kinds("3017", "jdb") == [("stake", D("-10")), ("win", D("5")), ("win", D("7"))]


def test_repeated_settle_answers_0000_with_the_current_balance(jdb, last_journal) -> None:
    jdb(debit(3020, "10"))
    jdb(credit(3021, "30", [3020]))
    jdb(debit(3022, "100"))  # the balance moves on meanwhile
    again = jdb(credit(3021, "30", [3020]))
    assert again.json == {"status": "0000", "balance": "920.00", "err_text": ""}
    assert chen_balance() == D("920")
    assert last_journal().outcome == "replay:ok"


def test_settle_of_unknown_refs_is_9015_and_moves_nothing(jdb, last_journal) -> None:
    sent = jdb(credit(3023, "30", [39999]))
    assert sent.json["status"] == "9015" and sent.json["balance"] == "1000.00"
    assert chen_balance() == D("1000")
    assert_journal(
        last_journal(), action="10 Settle", status="9015", outcome="bet_not_found", bet_key="39999"
    )


def test_settle_naming_one_unknown_ref_among_known_ones_is_9015_and_flags(jdb) -> None:
    jdb(debit(3024, "10"))
    assert jdb(credit(3025, "30", [3024, 39998])).json["status"] == "9015"
    assert chen_balance() == D("990")
    assert bet("3024", "jdb").state == BetState.OPEN and bet("3024", "jdb").needs_review


def test_settle_of_a_cancelled_bet_is_9015_and_flags(jdb) -> None:
    jdb(debit(3026, "10"))
    jdb(cancel_debits(3027, "10", [3026]))
    sent = jdb(credit(3028, "30", [3026]))
    assert sent.json["status"] == "9015"
    assert chen_balance() == D("1000")
    assert bet("3026", "jdb").needs_review


def test_a_second_settle_with_a_new_transfer_id_is_9999_and_flags(jdb) -> None:
    jdb(debit(3029, "10"))
    jdb(credit(3030, "30", [3029]))
    sent = jdb(credit(3031, "30", [3029]))
    assert sent.json["status"] == "9999"
    assert chen_balance() == D("1020")
    assert bet("3029", "jdb").needs_review


def test_settle_transfer_id_reused_with_another_amount_is_9011(jdb) -> None:
    jdb(debit(3032, "10"))
    jdb(credit(3033, "30", [3032]))
    assert jdb(credit(3033, "31", [3032])).json["status"] == "9011"
    assert chen_balance() == D("1020")


def test_settle_naming_another_player_is_9011(jdb) -> None:
    jdb(debit(3034, "10"))
    assert jdb(credit(3035, "30", [3034], uid=MYR_PLAYER, currency="RM")).json["status"] == "9011"
    assert chen_balance() == D("990") and balance(MYR_PLAYER, "MYR") == D("40")


def test_settle_needs_no_session(jdb) -> None:
    jdb(debit(3036, "10"))
    assert jdb(credit(3037, "1", [3036], systemSessionId="long-gone")).json["status"] == "0000"


# --- Action 11 ---------------------------------------------------------------------------------


def test_cancel_bet_refunds_the_stored_stake(jdb, last_journal) -> None:
    jdb(debit(3040, "10"))
    sent = jdb(cancel_debits(3041, "10", [3040]))
    assert sent.json == {"status": "0000", "balance": "1000.00", "err_text": ""}
    assert ledger_kinds("3040", "jdb") == [("stake", D("-10")), ("refund", D("10"))]
    assert bet("3040", "jdb").state == BetState.CANCELLED
    assert_journal(
        last_journal(),
        action="11 Cancel Bet",
        status="0000",
        outcome="cancelled",
        bet_key="3040",
        is_cancel=True,
    )


def test_cancel_bet_of_several_bets_refunds_their_sum(jdb) -> None:
    jdb(debit(3042, "10"))
    jdb(debit(3043, "15.5"))
    assert jdb(cancel_debits(3044, "25.5", [3042, 3043])).json["balance"] == "1000.00"


def test_cancel_bet_amount_that_differs_from_the_stakes_is_8000_and_flags(jdb) -> None:
    jdb(debit(3045, "10"))
    sent = jdb(cancel_debits(3046, "10.01", [3045]))
    assert sent.json["status"] == "8000"
    assert "differs" in sent.json["err_text"]
    assert chen_balance() == D("990")
    assert bet("3045", "jdb").state == BetState.OPEN and bet("3045", "jdb").needs_review


def test_cancel_bet_of_unknown_ref_tombstones_and_the_late_bet_is_9015(jdb) -> None:
    sent = jdb(cancel_debits(3047, "10", [3048]))
    assert sent.json["status"] == "0000"
    assert bet("3048", "jdb").state == BetState.TOMBSTONE
    late = jdb(debit(3048, "10"))
    assert late.json["status"] == "9015"
    assert chen_balance() == D("1000")
    assert ledger_kinds("3048", "jdb") == []


def test_cancel_bet_after_its_settle_is_9999_moves_nothing_and_flags(jdb, last_journal) -> None:
    jdb(debit(3049, "10"))
    jdb(credit(3050, "30", [3049]))
    sent = jdb(cancel_debits(3051, "10", [3049]))
    assert sent.json["status"] == "9999"
    assert chen_balance() == D("1020")
    assert bet("3049", "jdb").needs_review
    assert last_journal().outcome == "already_settled"


def test_cancel_of_a_refused_bet_is_0000_with_nothing_to_undo(jdb) -> None:
    jdb(debit(3052, "5000"))
    assert jdb(cancel_debits(3053, "5000", [3052])).json["status"] == "0000"
    assert bet("3052", "jdb").state == BetState.REFUSED
    assert chen_balance() == D("1000")


def test_repeated_cancel_bet_refunds_once(jdb) -> None:
    jdb(debit(3054, "10"))
    first = jdb(cancel_debits(3055, "10", [3054]))
    again = jdb(cancel_debits(3055, "10", [3054]))
    assert first.json == again.json == {"status": "0000", "balance": "1000.00", "err_text": ""}
    assert ledger_kinds("3054", "jdb") == [("stake", D("-10")), ("refund", D("10"))]
    assert chen_balance() == D("1000")
    jdb(debit(3056, "25"))  # the balance moves on: a later repeat answers with the new one
    assert jdb(cancel_debits(3055, "10", [3054])).json["balance"] == "975.00"
    assert chen_balance() == D("975")


# --- a lock wait past the bound, outside Action 4 -----------------------------------------------


@pytest.mark.parametrize(
    ("service", "payload"),
    [
        ("bet_settle", credit(3060, "30", [3061])),
        ("bet_cancel", cancel_debits(3062, "10", [3063])),
        ("bet_open", debit(3064, "10")),
    ],
)
def test_busy_outside_action_4_is_9999_so_jdb_retries(
    jdb, monkeypatch, last_journal, service: str, payload: dict
) -> None:
    from providers.jdb import adapter as jdb_adapter
    from wallet.services import Outcome, WalletResult

    monkeypatch.setattr(jdb_adapter, service, lambda **kw: WalletResult(Outcome.BUSY))
    sent = jdb(payload)
    assert sent.json["status"] == "9999"
    assert "try again" in sent.json["err_text"]
    assert chen_balance() == D("1000")
    assert last_journal().outcome == "busy"
