"""Every row of vp.md's rollback table, through the real endpoint with real AES-256-GCM."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from journal.models import JournalEntry
from tests.helpers import balance, bet, make_player
from tests.providers.conftest import Sent
from tests.providers.vp.conftest import (
    assert_answer,
    bet_payload,
    journal_row,
    ledger_rows,
    rollback_payload,
)
from wallet.models import BetState, LedgerEntry
from wallet.services import Outcome, WalletResult

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("players", "ledger_is_consistent"),
]

D = Decimal
Vp = Callable[..., Sent]


@pytest.fixture
def reverse(settings: pytest.FixtureRequest) -> None:
    settings.VP_ROLLBACK_SETTLED = "reverse"  # type: ignore[attr-defined]


def assert_rollback_journal(bet_id: str, outcome: str) -> None:
    row = journal_row()
    assert row.action == "rollback" and row.is_cancel
    assert row.bet_key == bet_id and row.account_id == "alice"
    assert row.outcome == outcome
    assert (row.payload or {})["betId"] == bet_id
    assert row.signature_form == "pipe_ciphertext"


# --- row 1: betNSettle applied ----------------------------------------------------------------


def test_settled_round_is_kept_with_2003_by_default(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "25"))
    sent = vp(rollback_payload("b1"))
    assert_answer(sent, "2003", "115.00")
    assert sent.json["errText"]
    assert balance() == D("115")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("25"))]
    assert bet("b1", "vp").state == BetState.SETTLED
    assert_rollback_journal("b1", "kept")


@pytest.mark.usefixtures("reverse")
def test_reverse_policy_reverses_stake_and_win_together_with_0000(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "25"))
    sent = vp(rollback_payload("b1"))
    assert_answer(sent, "0000", "100.00")
    assert balance() == D("100")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("25")), ("reversal", D("-15"))]
    assert bet("b1", "vp").state == BetState.CANCELLED
    assert_rollback_journal("b1", "reversed")


@pytest.mark.usefixtures("reverse")
def test_reversing_a_lost_round_gives_the_stake_back(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "0"))
    assert_answer(vp(rollback_payload("b1")), "0000", "100.00")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("0")), ("reversal", D("10"))]


@pytest.mark.usefixtures("reverse")
def test_reverse_policy_never_takes_the_balance_below_zero(vp: Vp) -> None:
    vp(bet_payload("big-win", "10", "90"))  # 180
    vp(bet_payload("spend", "175", "0"))  # 5 left; reversing big-win would need 80
    sent = vp(rollback_payload("big-win"))
    assert_answer(sent, "2003", "5.00")
    assert balance() == D("5")
    assert ledger_rows("big-win") == [("stake", D("-10")), ("win", D("90"))]
    kept = bet("big-win", "vp")
    assert kept.state == BetState.SETTLED and kept.needs_review
    assert_rollback_journal("big-win", "kept")
    # VP retries: the first decision stands even once the balance would allow it.
    vp(bet_payload("top-up", "0", "500"))
    assert_answer(vp(rollback_payload("big-win")), "2003", "505.00")
    assert balance() == D("505")


def test_a_repeat_keeps_the_first_answer_even_after_the_policy_changes(
    vp: Vp, settings: pytest.FixtureRequest
) -> None:
    vp(bet_payload("b1", "10", "25"))
    assert_answer(vp(rollback_payload("b1")), "2003", "115.00")
    settings.VP_ROLLBACK_SETTLED = "reverse"  # type: ignore[attr-defined]
    assert_answer(vp(rollback_payload("b1")), "2003", "115.00")
    assert balance() == D("115")
    assert len(ledger_rows("b1")) == 2


# --- row 2: betId unknown -----------------------------------------------------------------------


def test_unknown_bet_is_tombstoned_and_the_late_bet_is_refused(vp: Vp) -> None:
    sent = vp(rollback_payload("ghost"))
    assert_answer(sent, "0000", "100.00")
    assert bet("ghost", "vp").state == BetState.TOMBSTONE
    assert_rollback_journal("ghost", "tombstoned")

    late = vp(bet_payload("ghost", "10", "25"))
    assert_answer(late, "1006", "100.00")
    assert late.json["errText"] == "the bet was rolled back"
    assert_answer(vp(bet_payload("ghost", "10", "25", action="retryBet")), "1006", "100.00")
    assert balance() == D("100") and ledger_rows("ghost") == []
    tomb = bet("ghost", "vp")
    assert tomb.state == BetState.TOMBSTONE and tomb.late_arrival_at and tomb.needs_review
    row = journal_row()
    assert (row.action, row.bet_key, row.outcome) == ("retryBet", "ghost", "bet_cancelled")
    # The rollback repeated afterwards still answers as the first time.
    assert_answer(vp(rollback_payload("ghost")), "0000", "100.00")


def test_tombstone_answers_the_players_current_balance(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "0"))
    assert_answer(vp(rollback_payload("never-seen")), "0000", "90.00")


# --- row 3: betNSettle was refused ------------------------------------------------------------


def test_rollback_of_a_refused_bet_has_nothing_to_undo(vp: Vp) -> None:
    assert_answer(vp(bet_payload("b1", "500", "0")), "1006", "100.00")
    sent = vp(rollback_payload("b1"))
    assert_answer(sent, "0000", "100.00")
    assert balance() == D("100") and ledger_rows("b1") == []
    assert bet("b1", "vp").state == BetState.REFUSED
    assert_rollback_journal("b1", "nothing_to_undo")
    assert_answer(vp(rollback_payload("b1")), "0000", "100.00")


# --- row 4: repeated rollback -----------------------------------------------------------------


@pytest.mark.usefixtures("reverse")
def test_a_rollback_repeated_300_times_leaves_one_effect(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "25"))
    answers = {vp(rollback_payload("b1")).json["status"] for _ in range(300)}
    assert answers == {"0000"}
    assert balance() == D("100")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("25")), ("reversal", D("-15"))]
    assert JournalEntry.objects.filter(provider="vp", action="rollback").count() == 300


def test_a_kept_round_answers_2003_every_time(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "25"))
    for _ in range(20):
        assert_answer(vp(rollback_payload("b1")), "2003", "115.00")
    assert len(ledger_rows("b1")) == 2


def test_a_tombstone_repeated_300_times_stays_one_tombstone(vp: Vp) -> None:
    for _ in range(300):
        assert vp(rollback_payload("ghost")).json["status"] == "0000"
    assert bet("ghost", "vp").state == BetState.TOMBSTONE
    assert balance() == D("100") and LedgerEntry.objects.filter(bet__provider="vp").count() == 0


# --- row 5: lock wait exceeded, unexpected failure --------------------------------------------


def test_busy_wallet_answers_9999_and_moves_nothing(
    vp: Vp, monkeypatch: pytest.MonkeyPatch
) -> None:
    vp(bet_payload("b1", "10", "25"))
    monkeypatch.setattr(
        "providers.vp.adapter.bet_cancel",
        lambda **kw: WalletResult(Outcome.BUSY, message="canceling statement due to lock timeout"),
    )
    sent = vp(rollback_payload("b1"))
    assert_answer(sent, "9999", "0.00")
    # The database's own words stay in the journal; VP reads a generic "try again".
    assert sent.json["errText"] == "temporarily unavailable, try again"
    assert balance() == D("115") and len(ledger_rows("b1")) == 2
    assert_rollback_journal("b1", "busy")
    row = JournalEntry.objects.filter(provider="vp").latest("id")
    assert row.error == "canceling statement due to lock timeout"


def test_an_unexpected_failure_answers_9999(vp: Vp, monkeypatch: pytest.MonkeyPatch) -> None:
    vp(bet_payload("b1", "10", "25"))

    def broken(**kwargs: object) -> WalletResult:
        raise RuntimeError("database went away")

    monkeypatch.setattr("providers.vp.adapter.bet_cancel", broken)
    sent = vp(rollback_payload("b1"))
    assert_answer(sent, "9999", "0.00")
    assert "database" not in sent.json["errText"]  # no internals leak to VP
    row = journal_row()
    assert row.outcome == "error" and "RuntimeError" in row.error and row.is_cancel
    assert balance() == D("115")


def test_a_misconfigured_policy_answers_9999_rather_than_guess(
    vp: Vp, settings: pytest.FixtureRequest
) -> None:
    vp(bet_payload("b1", "10", "25"))
    settings.VP_ROLLBACK_SETTLED = "revers"  # type: ignore[attr-defined]
    assert_answer(vp(rollback_payload("b1")), "9999", "0.00")
    assert "VP_ROLLBACK_SETTLED" in journal_row().error
    assert balance() == D("115") and bet("b1", "vp").cancel_outcome == ""


# --- who may roll back what ---------------------------------------------------------------------


def test_rollback_for_an_unknown_player_answers_2000(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "25"))
    assert_answer(vp(rollback_payload("b1", uid="nobody")), "2000", "0.00")
    assert balance() == D("115") and bet("b1", "vp").cancel_outcome == ""


@pytest.mark.usefixtures("reverse")
def test_rollback_naming_another_player_moves_nothing_and_is_flagged(vp: Vp) -> None:
    vp(bet_payload("b1", "10", "25"))
    sent = vp(rollback_payload("b1", uid="bob"))
    assert_answer(sent, "9999", "50.00")  # the caller's balance, never the owner's
    assert balance() == D("115") and balance("bob") == D("50")
    flagged = bet("b1", "vp")
    assert flagged.needs_review and flagged.state == BetState.SETTLED
    assert len(ledger_rows("b1")) == 2


def test_rollback_needs_no_session_and_works_for_a_blocked_player(vp: Vp) -> None:
    make_player("eve", "USD", "20")
    vp(bet_payload("e1", "5", "0", uid="eve"))
    from wallet.models import Player

    Player.objects.filter(account_id="eve").update(status=Player.Status.BLOCKED)
    assert_answer(vp(rollback_payload("e1", uid="eve")), "2003", "15.00")
