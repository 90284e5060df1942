"""The wallet rules every provider follows (docs/architecture.md), asserted on balances and
ledger rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, bet, ledger_kinds, make_player
from wallet.models import BetState, LedgerEntry, Player
from wallet.services import (
    Outcome,
    SettledRoundPolicy,
    bet_cancel,
    bet_open,
    bet_place_and_settle,
    bet_settle,
    wallet_balance,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal


def open_bet(key: str = "b1", amount: str = "10", tx: str | None = None, **kw: object):
    return bet_open(
        provider="buffalo",
        bet_key=key,
        tx_id=tx or f"tx-{key}",
        account_id=str(kw.pop("account_id", "alice")),
        currency=str(kw.pop("currency", "USD")),
        amount=D(amount),
        round_id=str(kw.pop("round_id", "r1")),
    )


def b_and_s(key: str = "r1", stake: str = "10", win: str = "25", **kw: object):
    return bet_place_and_settle(
        provider="jdb",
        bet_key=key,
        tx_id=key,
        account_id="alice",
        currency="USD",
        stake=D(stake),
        win=D(win),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def alice() -> Player:
    return make_player("alice", "USD", "100")


# --- debit ------------------------------------------------------------------------------------


def test_debit_takes_the_stake_and_writes_one_row() -> None:
    result = open_bet("b1", "10")
    assert result.outcome == Outcome.OK and not result.replay
    assert result.balance == D("90")
    assert balance() == D("90")
    assert ledger_kinds("b1", "buffalo") == [("stake", D("-10"))]
    assert bet("b1", "buffalo").state == BetState.OPEN


def test_repeated_debit_moves_no_money_and_replays_the_answer() -> None:
    open_bet("b1", "10")
    again = open_bet("b1", "10")
    assert again.outcome == Outcome.OK and again.replay
    assert again.balance == D("90")
    assert balance() == D("90")
    assert len(ledger_kinds("b1", "buffalo")) == 1


def test_debit_reusing_a_key_with_another_amount_is_refused_and_flagged() -> None:
    open_bet("b1", "10")
    other = open_bet("b1", "11")
    assert other.outcome == Outcome.MISMATCH
    assert balance() == D("90")
    assert bet("b1", "buffalo").needs_review


def test_debit_reusing_a_transaction_id_for_another_bet_is_refused() -> None:
    open_bet("b1", "10", tx="same-tx")
    other = open_bet("b2", "10", tx="same-tx")
    assert other.outcome == Outcome.MISMATCH
    assert balance() == D("90")
    assert not LedgerEntry.objects.filter(bet__bet_key="b2").exists()


def test_insufficient_funds_moves_nothing_and_is_remembered() -> None:
    result = open_bet("big", "100.000001")
    assert result.outcome == Outcome.INSUFFICIENT_FUNDS
    assert balance() == D("100")
    assert bet("big", "buffalo").state == BetState.REFUSED
    again = open_bet("big", "100.000001")
    assert again.outcome == Outcome.INSUFFICIENT_FUNDS and again.replay


def test_debit_of_the_whole_balance_is_allowed() -> None:
    assert open_bet("all", "100").outcome == Outcome.OK
    assert balance() == D("0")


def test_blocked_player_cannot_bet_but_can_be_refunded() -> None:
    open_bet("b1", "10")
    Player.objects.filter(account_id="alice").update(status=Player.Status.BLOCKED)
    assert open_bet("b2", "10").outcome == Outcome.PLAYER_BLOCKED
    refund = bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1")
    assert refund.outcome == Outcome.CANCELLED
    assert balance() == D("100")


def test_unknown_player_and_wrong_currency() -> None:
    assert open_bet("b1", account_id="nobody").outcome == Outcome.PLAYER_NOT_FOUND
    assert open_bet("b1", currency="EUR").outcome == Outcome.WRONG_CURRENCY
    assert wallet_balance(account_id="alice", currency="USD").balance == D("100")
    assert wallet_balance(account_id="x", currency="USD").outcome == Outcome.PLAYER_NOT_FOUND


# --- credit -----------------------------------------------------------------------------------


def test_settle_credits_the_win_once() -> None:
    open_bet("b1", "10")
    first = bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D("30"))
    again = bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D("30"))
    assert first.outcome == Outcome.OK and not first.replay
    assert again.outcome == Outcome.OK and again.replay
    assert balance() == D("120")
    assert ledger_kinds("b1", "buffalo") == [("stake", D("-10")), ("win", D("30"))]
    assert bet("b1", "buffalo").state == BetState.SETTLED


def test_zero_win_settles_a_lost_bet() -> None:
    open_bet("b1", "10")
    assert bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D(0)).outcome == (
        Outcome.OK
    )
    assert balance() == D("90")
    assert bet("b1", "buffalo").state == BetState.SETTLED


def test_settle_for_unknown_bet_is_refused() -> None:
    result = bet_settle(provider="buffalo", bet_keys=["nope"], tx_id="w1", amount=D("5"))
    assert result.outcome == Outcome.BET_NOT_FOUND
    assert balance() == D("100")


def test_second_settle_with_another_id_is_refused_and_flagged() -> None:
    open_bet("b1", "10")
    bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D("5"))
    second = bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w2", amount=D("5"))
    assert second.outcome == Outcome.ALREADY_SETTLED
    assert balance() == D("95")
    assert bet("b1", "buffalo").needs_review


def test_settle_id_reused_with_another_amount_is_a_mismatch() -> None:
    open_bet("b1", "10")
    bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D("5"))
    reused = bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D("6"))
    assert reused.outcome == Outcome.MISMATCH
    assert balance() == D("95")


def test_round_left_open_takes_further_settles() -> None:
    open_bet("b1", "10")
    bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D("5"), round_closed=False)
    bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w2", amount=D("7"))
    assert balance() == D("102")
    assert bet("b1", "buffalo").win == D("12")
    third = bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w3", amount=D("1"))
    assert third.outcome == Outcome.ALREADY_SETTLED


def test_one_settle_for_several_bets_credits_once() -> None:
    open_bet("b1", "10")
    open_bet("b2", "20")
    result = bet_settle(provider="buffalo", bet_keys=["b1", "b2"], tx_id="w1", amount=D("50"))
    assert result.outcome == Outcome.OK
    assert balance() == D("120")
    assert bet("b1", "buffalo").state == bet("b2", "buffalo").state == BetState.SETTLED
    # The win is written once, on the first bet, with the credit; the other bet keeps none.
    assert (bet("b1", "buffalo").win, bet("b2", "buffalo").win) == (D("50"), D("0"))
    assert ledger_kinds("b1", "buffalo") == [("stake", D("-10")), ("win", D("50"))]
    assert ledger_kinds("b2", "buffalo") == [("stake", D("-20"))]


def test_settle_of_a_cancelled_bet_is_refused_and_flagged() -> None:
    open_bet("b1", "10")
    bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1")
    late = bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D("50"))
    assert late.outcome == Outcome.BET_CANCELLED
    assert balance() == D("100")
    assert bet("b1", "buffalo").needs_review


# --- bet and settle in one call ---------------------------------------------------------------


def test_bet_and_settle_applies_stake_and_win_together() -> None:
    result = b_and_s("r1", "10", "25")
    assert result.outcome == Outcome.OK
    assert balance() == D("115")
    assert ledger_kinds("r1", "jdb") == [("stake", D("-10")), ("win", D("25"))]


def test_bet_and_settle_refused_when_short_even_if_it_would_win() -> None:
    result = b_and_s("r1", "150", "1000")
    assert result.outcome == Outcome.INSUFFICIENT_FUNDS
    assert balance() == D("100")


def test_a_bet_of_the_whole_balance_or_exactly_the_required_balance_is_taken() -> None:
    """The funds check is "at least", on the stake and on JDB's required balance alike."""
    assert b_and_s("r1", "40", "0", required_balance=D("100")).outcome == Outcome.OK
    assert balance() == D("60")
    whole = open_bet("b1", "60")
    assert whole.outcome == Outcome.OK and whole.balance == D("0") and balance() == D("0")
    short = open_bet("b2", "0.01")
    assert short.outcome == Outcome.INSUFFICIENT_FUNDS and short.balance == D("0")
    assert balance() == D("0") and ledger_kinds("b2", "buffalo") == []


def test_bet_and_settle_honours_a_required_balance() -> None:
    result = b_and_s("r1", "1", "0", required_balance=D("101"))
    assert result.outcome == Outcome.INSUFFICIENT_FUNDS
    assert balance() == D("100")


def test_zero_stake_card_spin_never_fails_for_balance() -> None:
    make_player("broke", "USD", "0")
    result = bet_place_and_settle(
        provider="vp",
        bet_key="card-1",
        tx_id="card-1",
        account_id="broke",
        currency="USD",
        stake=D(0),
        win=D("3.5"),
    )
    assert result.outcome == Outcome.OK
    assert balance("broke") == D("3.5")


# --- cancel rules -----------------------------------------------------------------------------


def test_cancel_of_open_bet_refunds_the_stored_stake() -> None:
    open_bet("b1", "10")
    result = bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1")
    assert result.outcome == Outcome.CANCELLED and result.balance == D("100")
    assert ledger_kinds("b1", "buffalo") == [("stake", D("-10")), ("refund", D("10"))]
    assert bet("b1", "buffalo").state == BetState.CANCELLED


def test_duplicate_cancel_moves_nothing_and_answers_the_same() -> None:
    open_bet("b1", "10")
    bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1")
    for _ in range(5):
        again = bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1")
        assert again.outcome == Outcome.CANCELLED and again.replay
    assert balance() == D("100")
    assert len(ledger_kinds("b1", "buffalo")) == 2


def test_cancel_amount_must_match_the_stored_stake() -> None:
    open_bet("b1", "10")
    wrong = bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1", amount=D("11"))
    assert wrong.outcome == Outcome.AMOUNT_MISMATCH
    assert balance() == D("90")
    assert bet("b1", "buffalo").needs_review
    right = bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1", amount=D("10"))
    assert right.outcome == Outcome.CANCELLED
    assert balance() == D("100")


def test_cancel_of_unknown_bet_tombstones_and_the_late_bet_is_refused() -> None:
    result = bet_cancel(provider="buffalo", bet_keys=["ghost"], tx_id="c1", account_id="alice")
    assert result.outcome == Outcome.TOMBSTONED and result.balance == D("100")
    assert bet("ghost", "buffalo").state == BetState.TOMBSTONE
    late = open_bet("ghost", "10")
    assert late.outcome == Outcome.BET_CANCELLED
    assert balance() == D("100")
    tomb = bet("ghost", "buffalo")
    assert tomb.state == BetState.TOMBSTONE and tomb.late_arrival_at and tomb.needs_review
    assert ledger_kinds("ghost", "buffalo") == []
    repeat = bet_cancel(provider="buffalo", bet_keys=["ghost"], tx_id="c1")
    assert repeat.outcome == Outcome.TOMBSTONED and repeat.replay


def test_cancel_of_settled_round_keeps_it_by_default() -> None:
    b_and_s("r1", "10", "25")
    result = bet_cancel(provider="jdb", bet_keys=["r1"], tx_id="r1")
    assert result.outcome == Outcome.KEPT
    assert balance() == D("115")
    assert bet("r1", "jdb").state == BetState.SETTLED
    again = bet_cancel(
        provider="jdb", bet_keys=["r1"], tx_id="r1", settled_policy=SettledRoundPolicy.REVERSE
    )
    assert again.outcome == Outcome.KEPT and again.replay  # same answer as the first time


def test_cancel_of_settled_round_reversed_by_policy() -> None:
    b_and_s("r1", "10", "25")
    result = bet_cancel(
        provider="jdb", bet_keys=["r1"], tx_id="r1", settled_policy=SettledRoundPolicy.REVERSE
    )
    assert result.outcome == Outcome.REVERSED
    assert balance() == D("100")
    assert ledger_kinds("r1", "jdb") == [
        ("stake", D("-10")),
        ("win", D("25")),
        ("reversal", D("-15")),
    ]
    assert bet("r1", "jdb").state == BetState.CANCELLED


def test_reversal_that_would_overdraw_is_not_made() -> None:
    b_and_s("r1", "10", "60")  # balance 150
    open_bet("spend", "140")  # balance 10; reversing would need 50
    result = bet_cancel(
        provider="jdb", bet_keys=["r1"], tx_id="r1", settled_policy=SettledRoundPolicy.REVERSE
    )
    assert result.outcome == Outcome.KEPT
    assert balance() == D("10")
    assert bet("r1", "jdb").state == BetState.SETTLED and bet("r1", "jdb").needs_review


def test_cancel_after_payout_moves_nothing_and_flags() -> None:
    open_bet("b1", "10")
    bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D("30"))
    result = bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1")
    assert result.outcome == Outcome.ALREADY_SETTLED
    assert balance() == D("120")
    assert bet("b1", "buffalo").needs_review


def test_cancel_of_refused_bet_has_nothing_to_undo() -> None:
    open_bet("big", "1000")
    result = bet_cancel(provider="buffalo", bet_keys=["big"], tx_id="c1")
    assert result.outcome == Outcome.NOTHING_TO_UNDO
    assert balance() == D("100")
    assert bet("big", "buffalo").state == BetState.REFUSED
    again = bet_cancel(provider="buffalo", bet_keys=["big"], tx_id="c1")
    assert again.outcome == Outcome.NOTHING_TO_UNDO and again.replay


def test_cancel_naming_another_player_is_refused() -> None:
    make_player("bob", "USD", "5")
    open_bet("b1", "10")
    result = bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1", account_id="bob")
    assert result.outcome == Outcome.MISMATCH
    assert balance() == D("90") and balance("bob") == D("5")


def test_cancel_of_several_bets_refunds_their_sum() -> None:
    open_bet("b1", "10")
    open_bet("b2", "15")
    wrong = bet_cancel(provider="buffalo", bet_keys=["b1", "b2"], tx_id="c1", amount=D("10"))
    assert wrong.outcome == Outcome.AMOUNT_MISMATCH
    assert balance() == D("75")
    result = bet_cancel(provider="buffalo", bet_keys=["b1", "b2"], tx_id="c1", amount=D("25"))
    assert result.outcome == Outcome.CANCELLED
    assert balance() == D("100")


def test_same_bet_key_at_two_providers_are_two_bets() -> None:
    open_bet("k", "10")
    bet_open(
        provider="naga", bet_key="k", tx_id="t", account_id="alice", currency="USD", amount=D(5)
    )
    bet_cancel(provider="naga", bet_keys=["k"])
    assert balance() == D("90")


# --- the ledger -------------------------------------------------------------------------------


def test_ledger_rows_cannot_be_edited_or_deleted() -> None:
    open_bet("b1", "10")
    row = LedgerEntry.objects.filter(bet__bet_key="b1").get()
    row.amount = D("-1")
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=row.pk).update(amount=D(0))
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=row.pk).delete()


def test_an_answer_about_another_players_bet_shows_the_callers_balance() -> None:
    make_player("bob", "USD", "5")
    open_bet("b1", "10")
    cancel = bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1", account_id="bob")
    settle = bet_settle(
        provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=D(1), account_id="bob"
    )
    assert cancel.outcome == settle.outcome == Outcome.MISMATCH
    assert cancel.balance == settle.balance == D("5")  # bob's, not alice's 90
    assert balance() == D("90")
