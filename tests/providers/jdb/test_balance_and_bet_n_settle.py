"""Actions 6 (Get Balance) and 8 (BetNSettle) through the real endpoint, real encryption."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, bet, ledger_kinds, make_player
from tests.providers.jdb.jdb_wire import (
    CNY_PLAYER,
    MYR_PLAYER,
    assert_journal,
    balance_query,
    bet_n_settle,
)
from wallet.models import BetKind, BetState, LedgerEntry

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("chen", "dana", "ledger_is_consistent"),
]

D = Decimal


def chen_balance() -> Decimal:
    return balance(CNY_PLAYER, "CNY")


# --- Action 6 ----------------------------------------------------------------------------------


def test_balance_by_jdb_currency_code(jdb, last_journal) -> None:
    sent = jdb(balance_query(CNY_PLAYER, "RB"))
    assert sent.json == {"status": "0000", "balance": "1000.00", "err_text": ""}
    assert_journal(last_journal(), action="6 Get Balance", status="0000", outcome="ok")
    assert LedgerEntry.objects.filter(kind="stake").count() == 0


def test_balance_of_the_second_mapped_currency(jdb) -> None:
    assert jdb(balance_query(MYR_PLAYER, "RM")).json["balance"] == "40.00"


def test_an_iso_code_passes_through_the_map(jdb) -> None:
    make_player("usd_player", "USD", "12.5")
    assert jdb(balance_query("usd_player", "USD")).json["balance"] == "12.50"


def test_balance_is_rounded_down_never_up(jdb) -> None:
    make_player("fraction", "CNY", "10.129999")
    sent = jdb(balance_query("fraction", "RB"))
    assert sent.json["balance"] == "10.12"
    assert isinstance(sent.json["balance"], str)


def test_balance_needs_no_session_and_ignores_an_unknown_session_id(jdb, last_journal) -> None:
    sent = jdb(balance_query(systemSessionId="a-session-id-nobody-issued"))
    assert sent.json["status"] == "0000"
    assert last_journal().payload["systemSessionId"] == "a-se…[redacted]"


def test_balance_of_unknown_player_is_7501(jdb, last_journal) -> None:
    sent = jdb(balance_query("nobody", "RB"))
    assert sent.json == {"status": "7501", "err_text": "user not found: unknown player 'nobody'"}
    assert_journal(
        last_journal(),
        action="6 Get Balance",
        status="7501",
        outcome="player_not_found",
        account_id="nobody",
    )


def test_balance_in_a_currency_the_player_has_no_wallet_in_is_8000(jdb) -> None:
    sent = jdb(balance_query(CNY_PLAYER, "RM"))
    assert sent.json["status"] == "8000"
    assert "MYR" in sent.json["err_text"]


# --- Action 8 ----------------------------------------------------------------------------------


def test_bet_n_settle_applies_stake_and_win(jdb, last_journal) -> None:
    sent = jdb(bet_n_settle(1001, "-0.4", "1.25"))
    assert sent.json == {"status": "0000", "balance": "1000.85", "err_text": ""}
    assert chen_balance() == D("1000.85")
    assert ledger_kinds("1001", "jdb") == [("stake", D("-0.4")), ("win", D("1.25"))]
    placed = bet("1001", "jdb")
    assert placed.kind == BetKind.BET_AND_SETTLE and placed.state == BetState.SETTLED
    assert placed.stake == D("0.4") and placed.win == D("1.25")
    assert placed.round_id == "H1001" and placed.game_code == "8001"
    assert placed.details["jackpotContribute"] == "0.004"
    assert_journal(
        last_journal(), action="8 BetNSettle", status="0000", outcome="ok", bet_key="1001"
    )


def test_a_losing_round_takes_the_stake_only(jdb) -> None:
    sent = jdb(bet_n_settle(1002, "-5", "0"))
    assert sent.json["balance"] == "995.00"
    assert ledger_kinds("1002", "jdb") == [("stake", D("-5")), ("win", D("0"))]


def test_a_free_game_with_zero_bet_pays_its_win(jdb) -> None:
    assert jdb(bet_n_settle(1003, "0", "3")).json["status"] == "0000"
    assert chen_balance() == D("1003")
    assert bet("1003", "jdb").stake == D("0")


def test_net_win_is_optional(jdb) -> None:
    payload = bet_n_settle(1004, "-1", "2")
    del payload["netWin"]
    assert jdb(payload).json["status"] == "0000"
    assert chen_balance() == D("1001")


def test_bet_n_settle_refused_when_balance_is_below_the_bet(jdb, last_journal) -> None:
    sent = jdb(bet_n_settle(1005, "-1000.01", "5000"))
    assert sent.json == {
        "status": "6006",
        "balance": "1000.00",
        "err_text": "player balance is insufficient",
    }
    assert chen_balance() == D("1000")
    assert ledger_kinds("1005", "jdb") == []
    assert bet("1005", "jdb").state == BetState.REFUSED
    assert_journal(
        last_journal(),
        action="8 BetNSettle",
        status="6006",
        outcome="insufficient_funds",
        bet_key="1005",
    )


def test_bet_of_the_whole_balance_is_accepted(jdb) -> None:
    assert jdb(bet_n_settle(1006, "-1000", "0")).json["balance"] == "0.00"


def test_bet_n_settle_refused_when_balance_is_below_mb(jdb) -> None:
    sent = jdb(bet_n_settle(1007, "-1", "0", mb=D("1000.01")))
    assert sent.json["status"] == "6006"
    assert chen_balance() == D("1000")
    assert ledger_kinds("1007", "jdb") == []


def test_mb_met_lets_the_round_through(jdb) -> None:
    assert jdb(bet_n_settle(1008, "-1", "0", mb=D("1000"))).json["status"] == "0000"
    assert chen_balance() == D("999")


def test_repeated_bet_n_settle_moves_money_once_and_answers_the_same(jdb, last_journal) -> None:
    first = jdb(bet_n_settle(1009, "-2", "7"))
    again = jdb(bet_n_settle(1009, "-2", "7"))
    assert first.json == again.json == {"status": "0000", "balance": "1005.00", "err_text": ""}
    assert len(ledger_kinds("1009", "jdb")) == 2
    assert last_journal().outcome == "replay:ok"


def test_repeated_refused_bet_n_settle_is_refused_again(jdb) -> None:
    jdb(bet_n_settle(1010, "-5000", "0"))
    assert jdb(bet_n_settle(1010, "-5000", "0")).json["status"] == "6006"
    assert chen_balance() == D("1000")


def test_transfer_id_reused_with_other_content_is_9011_and_flagged(jdb, last_journal) -> None:
    jdb(bet_n_settle(1011, "-2", "7"))
    sent = jdb(bet_n_settle(1011, "-2", "70"))
    assert sent.json["status"] == "9011" and sent.json["balance"] == "1005.00"
    assert chen_balance() == D("1005")
    assert len(ledger_kinds("1011", "jdb")) == 2
    assert bet("1011", "jdb").needs_review
    assert last_journal().outcome == "mismatch"


def test_transfer_id_reused_by_another_player_is_9011(jdb) -> None:
    jdb(bet_n_settle(1012, "-2", "0"))
    sent = jdb(bet_n_settle(1012, "-2", "0", uid=MYR_PLAYER, currency="RM"))
    assert sent.json["status"] == "9011"
    assert balance(MYR_PLAYER, "MYR") == D("40")


def test_net_win_that_is_not_win_plus_bet_is_a_parameter_error(jdb, last_journal) -> None:
    sent = jdb(bet_n_settle(1013, "-1", "2", netWin=D("2")))
    assert sent.json == {
        "status": "8000",
        "err_text": "netWin 2.000000 is not win + bet (1.000000)",
    }
    assert chen_balance() == D("1000")
    assert not LedgerEntry.objects.filter(provider="jdb").exists()
    entry = last_journal()
    assert entry.outcome == "bad_input" and entry.bet_key == "1013"


def test_a_positive_bet_is_a_parameter_error(jdb) -> None:
    sent = jdb(bet_n_settle(1014, "1", "2", netWin=D("3")))
    assert sent.json["status"] == "8000" and "bet must be zero or negative" in sent.json["err_text"]
    assert chen_balance() == D("1000")


def test_bet_n_settle_for_unknown_player_is_7501(jdb) -> None:
    sent = jdb(bet_n_settle(1015, "-1", "0", uid="ghost"))
    assert sent.json["status"] == "7501"
    assert not LedgerEntry.objects.filter(provider="jdb").exists()


def test_bet_n_settle_in_a_currency_without_wallet_is_8000(jdb) -> None:
    sent = jdb(bet_n_settle(1016, "-1", "0", currency="RM"))
    assert sent.json["status"] == "8000"
    assert chen_balance() == D("1000")


def test_unknown_extra_fields_are_kept_in_the_journal_and_ignored(jdb, last_journal) -> None:
    sent = jdb(bet_n_settle(1017, "-0.40", "0", somethingNew={"nested": [1, 2]}))
    assert sent.json["status"] == "0000"
    assert last_journal().payload["somethingNew"] == {"nested": [1, 2]}
    assert last_journal().payload["bet"] == "-0.40"  # the exact text JDB sent, never a float
