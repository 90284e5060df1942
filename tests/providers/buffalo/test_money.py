"""debit, credit and cancel over HTTP: every row of buffalo.md's answers table.

Each test asserts the answer (status, balance, uuid), the wallet balance, the ledger rows of the
bet and the journal row.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import balance, bet, ledger_kinds
from tests.providers.buffalo.conftest import Gambler, answered, journaled, ledger_count
from tests.providers.conftest import Sent
from wallet.models import BetState, Player

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal
Call = Callable[..., Sent]


# --- debit ----------------------------------------------------------------------------------


def test_debit_takes_the_stake(buffalo: Call, alice: Gambler) -> None:
    payload = alice.tx("ref-1", "10.25", round_id="game-7")
    answered(buffalo("debit", payload), payload, "OK", "989.75")
    assert balance("alice") == D("989.75")
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10.25"))]
    opened = bet("ref-1", "buffalo")
    assert (opened.state, opened.round_id, opened.game_code) == (BetState.OPEN, "game-7", "plinko")
    assert opened.details == {"game_session": "game-session-1"}
    journaled(payload, action="debit", outcome="ok", bet_key="ref-1", signature_form="query+header")


def test_repeated_debit_answers_bet_already_exist_and_moves_nothing(
    buffalo: Call, alice: Gambler
) -> None:
    first = alice.tx("ref-1", "10")
    buffalo("debit", first)
    again = {**first, "uuid": "uuid-repeat"}
    answered(buffalo("debit", again), again, "BET_ALREADY_EXIST", "990")
    assert balance("alice") == D("990")
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10"))]
    journaled(again, action="debit", outcome="replay:ok", bet_key="ref-1")


def test_debit_reusing_a_ref_id_with_another_amount_is_refused_and_flagged(
    buffalo: Call, alice: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    other = alice.tx("ref-1", "12")
    answered(buffalo("debit", other), other, "INVALID_PARAMETER", "990")
    assert balance("alice") == D("990") and bet("ref-1", "buffalo").needs_review
    journaled(other, action="debit", outcome="mismatch", bet_key="ref-1")


def test_debit_reusing_a_transaction_id_for_another_ref_id_is_refused(
    buffalo: Call, alice: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10", tx_id="same"))
    other = alice.tx("ref-2", "10", tx_id="same")
    answered(buffalo("debit", other), other, "INVALID_PARAMETER", "990")
    assert balance("alice") == D("990") and ledger_kinds("ref-2", "buffalo") == []


def test_debit_with_insufficient_balance_moves_nothing(buffalo: Call, alice: Gambler) -> None:
    payload = alice.tx("ref-big", "1000.000001")
    answered(buffalo("debit", payload), payload, "INSUFFICIENT_FUNDS", "1000")
    assert balance("alice") == D("1000")
    assert bet("ref-big", "buffalo").state == BetState.REFUSED
    assert ledger_kinds("ref-big", "buffalo") == []
    journaled(payload, action="debit", outcome="insufficient_funds", bet_key="ref-big")
    # The repeat keeps the refusal: BET_ALREADY_EXIST would tell Buffalo the stake was taken.
    again = {**payload, "uuid": "uuid-repeat-big"}
    answered(buffalo("debit", again), again, "INSUFFICIENT_FUNDS", "1000")
    # A credit for the refused debit pays nothing; its cancel has nothing to undo.
    won = alice.tx("ref-big", "5000", tx_id="win-big")
    answered(buffalo("credit", won), won, "BET_DOES_NOT_EXIST", "1000")
    undo = alice.tx("ref-big", "1000.000001")
    answered(buffalo("cancel", undo), undo, "OK", "1000")
    assert bet("ref-big", "buffalo").state == BetState.REFUSED
    assert balance("alice") == D("1000") and ledger_count() == 1  # the opening deposit


def test_debit_of_the_whole_balance_is_accepted(buffalo: Call, alice: Gambler) -> None:
    payload = alice.tx("ref-all", "1000")
    answered(buffalo("debit", payload), payload, "OK", "0")
    assert balance("alice") == D("0")


def test_blocked_player_cannot_debit_but_is_credited_and_refunded(
    buffalo: Call, alice: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    buffalo("debit", alice.tx("ref-2", "20"))
    Player.objects.filter(account_id="alice").update(status=Player.Status.BLOCKED)
    refused = alice.tx("ref-3", "5")
    answered(buffalo("debit", refused), refused, "ACCOUNT_LOCKED", "970")
    journaled(refused, action="debit", outcome="player_blocked", bet_key="ref-3")
    won = alice.tx("ref-1", "15", tx_id="win-1")
    answered(buffalo("credit", won), won, "OK", "985")
    undo = alice.tx("ref-2", "20")
    answered(buffalo("cancel", undo), undo, "OK", "1005")
    assert balance("alice") == D("1005")
    assert ledger_kinds("ref-3", "buffalo") == []


# --- credit ---------------------------------------------------------------------------------


def test_credit_pays_the_win_once(buffalo: Call, alice: Gambler) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    payload = alice.tx("ref-1", "25.5", tx_id="win-1")
    answered(buffalo("credit", payload), payload, "OK", "1015.5")
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10")), ("win", D("25.5"))]
    settled = bet("ref-1", "buffalo")
    assert settled.state == BetState.SETTLED and settled.win == D("25.5")
    journaled(payload, action="credit", outcome="ok", bet_key="ref-1")
    again = {**payload, "uuid": "uuid-credit-again"}
    answered(buffalo("credit", again), again, "BET_ALREADY_SETTLED", "1015.5")
    journaled(again, action="credit", outcome="replay:ok", bet_key="ref-1")
    assert balance("alice") == D("1015.5") and len(ledger_kinds("ref-1", "buffalo")) == 2


def test_second_credit_with_another_id_is_refused_and_flagged(
    buffalo: Call, alice: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    buffalo("credit", alice.tx("ref-1", "5", tx_id="win-1"))
    second = alice.tx("ref-1", "5", tx_id="win-2")
    answered(buffalo("credit", second), second, "BET_ALREADY_SETTLED", "995")
    assert balance("alice") == D("995") and bet("ref-1", "buffalo").needs_review


def test_zero_credit_settles_a_lost_bet(buffalo: Call, alice: Gambler) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    payload = alice.tx("ref-1", 0, tx_id="win-1")
    answered(buffalo("credit", payload), payload, "OK", "990")
    assert bet("ref-1", "buffalo").state == BetState.SETTLED
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10")), ("win", D("0"))]
    # A lost bet is settled: a late cancel must not refund it.
    late = alice.tx("ref-1", "10")
    answered(buffalo("cancel", late), late, "BET_ALREADY_SETTLED", "990")
    assert balance("alice") == D("990")


def test_big_payout_is_exact(buffalo: Call, alice: Gambler) -> None:
    buffalo("debit", alice.tx("ref-1", "0.000001"))
    payload = alice.tx("ref-1", "63727092.34", tx_id="jackpot")
    answered(buffalo("credit", payload), payload, "OK", "63728092.339999")
    assert balance("alice") == D("63728092.339999")
    assert ledger_kinds("ref-1", "buffalo")[-1] == ("win", D("63727092.34"))


def test_credit_for_an_unknown_ref_id(buffalo: Call, alice: Gambler) -> None:
    payload = alice.tx("never-debited", "50", tx_id="win-x")
    answered(buffalo("credit", payload), payload, "BET_DOES_NOT_EXIST", "1000")
    assert balance("alice") == D("1000") and ledger_count() == 1
    journaled(payload, action="credit", outcome="bet_not_found", bet_key="never-debited")


def test_credit_after_a_cancel_is_refused_and_flagged(buffalo: Call, alice: Gambler) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    buffalo("cancel", alice.tx("ref-1", "10"))
    payload = alice.tx("ref-1", "40", tx_id="win-1")
    answered(buffalo("credit", payload), payload, "BET_ALREADY_SETTLED", "1000")
    assert balance("alice") == D("1000") and bet("ref-1", "buffalo").needs_review
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10")), ("refund", D("10"))]
    journaled(payload, action="credit", outcome="bet_cancelled", bet_key="ref-1")


def test_credit_naming_another_players_bet_is_refused(
    buffalo: Call, alice: Gambler, bob: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    payload = bob.tx("ref-1", "40", tx_id="win-1")
    answered(buffalo("credit", payload), payload, "INVALID_PARAMETER", "250.5")
    assert balance("alice") == D("990") and balance("bob") == D("250.50")
    assert bet("ref-1", "buffalo").needs_review


# --- cancel ---------------------------------------------------------------------------------


def test_cancel_of_an_open_debit_refunds_the_stored_stake(buffalo: Call, alice: Gambler) -> None:
    buffalo("debit", alice.tx("ref-1", "10.5"))
    payload = alice.tx("ref-1", "10.5")  # Buffalo repeats the debit's transaction.id
    answered(buffalo("cancel", payload), payload, "OK", "1000")
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10.5")), ("refund", D("10.5"))]
    assert bet("ref-1", "buffalo").state == BetState.CANCELLED
    journaled(payload, action="cancel", outcome="cancelled", bet_key="ref-1")


def test_cancel_repeated_or_with_another_id_answers_bet_already_settled(
    buffalo: Call, alice: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    buffalo("cancel", alice.tx("ref-1", "10"))
    repeat = alice.tx("ref-1", "10")
    answered(buffalo("cancel", repeat), repeat, "BET_ALREADY_SETTLED", "1000")
    journaled(repeat, action="cancel", outcome="replay:cancelled", bet_key="ref-1")
    other_id = alice.tx("ref-1", "10", tx_id="cancel-2")
    answered(buffalo("cancel", other_id), other_id, "BET_ALREADY_SETTLED", "1000")
    assert balance("alice") == D("1000") and len(ledger_kinds("ref-1", "buffalo")) == 2


def test_cancel_of_an_unknown_ref_id_tombstones_and_refuses_the_late_debit(
    buffalo: Call, alice: Gambler
) -> None:
    payload = alice.tx("ref-early", "10")
    answered(buffalo("cancel", payload), payload, "BET_DOES_NOT_EXIST", "1000")
    assert bet("ref-early", "buffalo").state == BetState.TOMBSTONE
    journaled(payload, action="cancel", outcome="tombstoned", bet_key="ref-early")
    late = alice.tx("ref-early", "10")
    answered(buffalo("debit", late), late, "BET_ALREADY_SETTLED", "1000")
    journaled(late, action="debit", outcome="bet_cancelled", bet_key="ref-early")
    tomb = bet("ref-early", "buffalo")
    assert tomb.state == BetState.TOMBSTONE and tomb.late_arrival_at and tomb.needs_review
    # The debit still never happened: a repeated cancel says so again, and no money moved.
    again = alice.tx("ref-early", "10")
    answered(buffalo("cancel", again), again, "BET_DOES_NOT_EXIST", "1000")
    assert ledger_kinds("ref-early", "buffalo") == [] and balance("alice") == D("1000")


def test_cancel_after_the_credit_moves_nothing_and_flags(buffalo: Call, alice: Gambler) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    buffalo("credit", alice.tx("ref-1", "30", tx_id="win-1"))
    payload = alice.tx("ref-1", "10")
    answered(buffalo("cancel", payload), payload, "BET_ALREADY_SETTLED", "1020")
    assert balance("alice") == D("1020") and bet("ref-1", "buffalo").needs_review
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10")), ("win", D("30"))]
    journaled(payload, action="cancel", outcome="already_settled", bet_key="ref-1")


def test_cancel_whose_amount_differs_moves_nothing_and_flags(buffalo: Call, alice: Gambler) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    payload = alice.tx("ref-1", "10.000001")
    answered(buffalo("cancel", payload), payload, "INVALID_PARAMETER", "990")
    assert bet("ref-1", "buffalo").state == BetState.OPEN
    assert bet("ref-1", "buffalo").needs_review
    journaled(payload, action="cancel", outcome="amount_mismatch", bet_key="ref-1")
    right = alice.tx("ref-1", "10")
    answered(buffalo("cancel", right), right, "OK", "1000")


def test_cancel_naming_another_players_debit_is_refused(
    buffalo: Call, alice: Gambler, bob: Gambler
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    payload = bob.tx("ref-1", "10")
    answered(buffalo("cancel", payload), payload, "INVALID_PARAMETER", "250.5")
    assert balance("alice") == D("990") and balance("bob") == D("250.50")
    assert bet("ref-1", "buffalo").state == BetState.OPEN


# --- rounds with several debits, players interleaving ------------------------------------------


@pytest.mark.parametrize("credit_first", [True, False], ids=["credit-first", "cancel-first"])
def test_two_debits_in_one_round_settle_and_cancel_on_their_own(
    buffalo: Call, alice: Gambler, credit_first: bool
) -> None:
    for ref, amount in (("ref-a", "10"), ("ref-b", "20")):
        assert buffalo("debit", alice.tx(ref, amount, round_id="G1")).json["status"] == "OK"
    assert balance("alice") == D("970")
    credit = alice.tx("ref-a", "35", tx_id="win-a", round_id="G1")
    cancel = alice.tx("ref-b", "20", round_id="G1")
    steps = [("credit", credit), ("cancel", cancel)]
    for method, payload in steps if credit_first else reversed(steps):
        assert buffalo(method, payload).json["status"] == "OK"
    assert balance("alice") == D("1025")  # 1000 - 10 - 20 + 35 + 20
    assert ledger_kinds("ref-a", "buffalo") == [("stake", D("-10")), ("win", D("35"))]
    assert ledger_kinds("ref-b", "buffalo") == [("stake", D("-20")), ("refund", D("20"))]
    assert bet("ref-a", "buffalo").state == BetState.SETTLED
    assert bet("ref-b", "buffalo").state == BetState.CANCELLED
    assert bet("ref-a", "buffalo").round_id == bet("ref-b", "buffalo").round_id == "G1"
    # Each decision stands: the other method on each bet is refused without money.
    late_cancel = alice.tx("ref-a", "10", round_id="G1")
    answered(buffalo("cancel", late_cancel), late_cancel, "BET_ALREADY_SETTLED", "1025")
    late_credit = alice.tx("ref-b", "99", tx_id="win-b", round_id="G1")
    answered(buffalo("credit", late_credit), late_credit, "BET_ALREADY_SETTLED", "1025")
    assert balance("alice") == D("1025")


def test_two_players_interleaving_bets(buffalo: Call, alice: Gambler, bob: Gambler) -> None:
    script: list[tuple[str, Gambler, dict[str, object], str, str]] = [
        ("debit", alice, alice.tx("a1", "100", round_id="R"), "OK", "900"),
        ("debit", bob, bob.tx("b1", "50.5", round_id="R"), "OK", "200"),
        ("debit", alice, alice.tx("a2", "1.000001", round_id="R"), "OK", "898.999999"),
        ("credit", bob, bob.tx("b1", "101", tx_id="wb1", round_id="R"), "OK", "301"),
        ("cancel", alice, alice.tx("a1", "100", round_id="R"), "OK", "998.999999"),
        ("debit", bob, bob.tx("b2", "301.000001", round_id="R"), "INSUFFICIENT_FUNDS", "301"),
        ("credit", alice, alice.tx("a2", "0", tx_id="wa2", round_id="R"), "OK", "998.999999"),
        ("cancel", bob, bob.tx("b1", "50.5", round_id="R"), "BET_ALREADY_SETTLED", "301"),
    ]
    for method, _who, payload, status, shown in script:
        answered(buffalo(method, payload), payload, status, shown)
    assert balance("alice") == D("998.999999") and balance("bob") == D("301")
    assert ledger_kinds("b1", "buffalo") == [("stake", D("-50.5")), ("win", D("101"))]
    assert ledger_kinds("a1", "buffalo") == [("stake", D("-100")), ("refund", D("100"))]


def test_money_calls_stay_cheap(
    buffalo: Call, alice: Gambler, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    """Buffalo wants answers within 300 ms: each call is a handful of statements, journal
    included (debit: session, wallet, bet insert, wallet lock, update, ledger row, journal)."""
    for method, payload, most in (
        ("debit", alice.tx("q-1", "10"), 10),
        ("credit", alice.tx("q-1", "5", tx_id="win-q"), 12),
        ("debit", alice.tx("q-2", "10"), 10),
        ("cancel", alice.tx("q-2", "10"), 12),
        ("balance", alice.base(), 4),
    ):
        with django_assert_max_num_queries(most):
            assert buffalo(method, payload).json["status"] == "OK"
