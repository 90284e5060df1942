"""VP balance, betNSettle and retryBet through the real endpoint with real AES-256-GCM."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.helpers import balance, bet, make_player
from tests.providers.conftest import Sent
from tests.providers.vp.conftest import (
    assert_answer,
    balance_payload,
    bet_payload,
    journal_row,
    ledger_rows,
)
from wallet.models import BetKind, BetState, Player

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("players", "ledger_is_consistent"),
]

D = Decimal
Vp = Callable[..., Sent]


# --- balance ----------------------------------------------------------------------------------


def test_balance_answers_the_wallet_balance(vp: Vp) -> None:
    sent = vp(balance_payload("alice", "USD"))
    assert_answer(sent, "0000", "100.00")
    assert b'"balance":100.00' in sent.raw  # a JSON number with two decimals
    row = journal_row()
    assert row.action == "balance" and row.account_id == "alice" and row.bet_key == ""
    assert row.outcome == "ok" and not row.is_cancel
    assert row.signature_form == "pipe_ciphertext"
    assert (row.payload or {})["uid"] == "alice" and (row.payload or {})["currency"] == "USD"
    assert (row.answer or {})["status"] == "0000" and row.http_status == 200


def test_balance_is_rounded_down_never_up(vp: Vp) -> None:
    make_player("dana", "MYR", "40.129999")
    assert_answer(vp(balance_payload("dana", "MYR")), "0000", "40.12")


def test_balance_of_a_blocked_player_is_still_answered(vp: Vp) -> None:
    Player.objects.filter(account_id="alice").update(status=Player.Status.BLOCKED)
    assert_answer(vp(balance_payload()), "0000", "100.00")


# --- betNSettle -------------------------------------------------------------------------------


def test_bet_and_settle_applies_stake_and_win_in_one_call(vp: Vp) -> None:
    sent = vp(bet_payload("b1", "10", "25", spin_ids=["VPItemTest_1", "VPItemTest_2"]))
    assert_answer(sent, "0000", "115.00")
    assert balance() == D("115")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("25"))]
    stored = bet("b1", "vp")
    assert stored.state == BetState.SETTLED and stored.kind == BetKind.BET_AND_SETTLE
    assert stored.round_id == "round-b1" and stored.game_code == "VP_230036_1"
    assert stored.stake == D("10") and stored.win == D("25")
    assert stored.details["spin_ids"] == ["VPItemTest_1", "VPItemTest_2"]
    assert stored.details["game_info"]["cardType"] == 1
    assert stored.details["transfer_id"] == "transfer-b1"
    assert stored.details["jackpot_contribute"] == "0.010000"
    row = journal_row()
    assert (row.action, row.bet_key, row.account_id, row.outcome) == (
        "betNSettle",
        "b1",
        "alice",
        "ok",
    )
    assert not row.is_cancel and str((row.payload or {})["actualBetAmt"]) == "10"


def test_a_lost_round_takes_the_stake(vp: Vp) -> None:
    assert_answer(vp(bet_payload("b1", "10", "0")), "0000", "90.00")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("0"))]


def test_amounts_are_exact_and_the_answer_is_rounded_down(vp: Vp) -> None:
    sent = vp(bet_payload("b1", D("0.1"), D("0.200009")))
    assert balance() == D("100.100009")
    assert_answer(sent, "0000", "100.10")


def test_the_whole_balance_can_be_staked(vp: Vp) -> None:
    assert_answer(vp(bet_payload("b1", "100", "0")), "0000", "0.00")
    assert balance() == D("0")


def test_insufficient_balance_refuses_with_1006_even_for_a_winning_round(vp: Vp) -> None:
    sent = vp(bet_payload("b1", "100.01", "1000"))
    assert_answer(sent, "1006", "100.00")
    assert sent.json["errText"] == "insufficient balance"
    assert balance() == D("100") and ledger_rows("b1") == []
    assert bet("b1", "vp").state == BetState.REFUSED
    assert journal_row().outcome == "insufficient_funds"
    # VP resending it gets the same answer; still nothing moves.
    assert_answer(vp(bet_payload("b1", "100.01", "1000", action="retryBet")), "1006", "100.00")
    assert ledger_rows("b1") == []


def test_a_blocked_player_cannot_bet(vp: Vp) -> None:
    Player.objects.filter(account_id="alice").update(status=Player.Status.BLOCKED)
    assert_answer(vp(bet_payload("b1", "10", "25")), "1006", "100.00")
    assert balance() == D("100") and ledger_rows("b1") == []
    assert journal_row().outcome == "player_blocked"


def test_a_repeated_bet_and_settle_is_a_replay(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "25"))
    for _ in range(3):
        assert_answer(vp(bet_payload("b1", "10", "25")), "0000", "115.00")
    assert balance() == D("115")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("25"))]


def test_a_bet_id_reused_with_other_amounts_moves_nothing_and_is_flagged(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "25"))
    sent = vp(bet_payload("b1", "10", "26"))
    # Not a final code: VP's books must not say "refused" for a betId that was applied.
    assert_answer(sent, "9999", "115.00")
    assert balance() == D("115")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("25"))]
    assert bet("b1", "vp").needs_review
    assert journal_row().outcome == "mismatch"


# --- retryBet ---------------------------------------------------------------------------------


def test_retry_bet_repeating_a_bet_and_settle_is_a_replay(vp: Vp) -> None:
    assert_answer(vp(bet_payload("b1", "10", "25")), "0000", "115.00")
    sent = vp(bet_payload("b1", "10", "25", action="retryBet"))
    assert_answer(sent, "0000", "115.00")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("25"))]
    row = journal_row()
    assert (row.action, row.bet_key, row.outcome) == ("retryBet", "b1", "replay:ok")


def test_zero_stake_card_spin_never_fails_for_balance(vp: Vp) -> None:
    make_player("broke", "USD", "0")
    card = bet_payload("card-1", "0", "3.5", uid="broke", action="retryBet", spin_ids=["spin-9"])
    for _ in range(5):  # VP re-sends it until it succeeds; only the first one pays
        assert_answer(vp(card), "0000", "3.50")
    assert balance("broke") == D("3.5")
    assert ledger_rows("card-1") == [("stake", D("0")), ("win", D("3.5"))]
    assert bet("card-1", "vp").details["spin_ids"] == ["spin-9"]


def test_retry_bet_alone_applies_the_round(vp: Vp) -> None:
    assert_answer(vp(bet_payload("b1", "5", "0", action="retryBet")), "0000", "95.00")
    assert ledger_rows("b1") == [("stake", D("-5")), ("win", D("0"))]


@pytest.mark.parametrize(
    ("spin_id", "stored"),
    [
        (None, []),
        ([], []),
        ("single-card", ["single-card"]),
        ([123, "abc"], ["123", "abc"]),
    ],
)
def test_spin_ids_are_recorded_as_a_list_of_strings(
    vp: Vp, spin_id: object, stored: list[str]
) -> None:
    payload = bet_payload("b1", "0", "1")
    if spin_id is not None:
        payload["gameInfo"] = f'{{"spinID": {__import__("json").dumps(spin_id)}}}'
    else:
        payload["gameInfo"] = '{"featureBuy": 0}'
    assert_answer(vp(payload), "0000", "101.00")
    assert bet("b1", "vp").details["spin_ids"] == stored


def test_optional_informational_fields_may_be_absent(vp: Vp) -> None:
    payload = bet_payload("b1", "10", "0")
    for name in (
        "transferId",
        "brand",
        "validBetAmt",
        "jackpotWin",
        "jackpotContribute",
        "betSourceId",
        "betTime",
        "txTime",
    ):
        del payload[name]
    assert_answer(vp(payload), "0000", "90.00")
    assert bet("b1", "vp").details["spin_ids"] == []
