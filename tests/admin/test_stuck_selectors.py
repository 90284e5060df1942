""" "Stuck" made precise: each reason's selector, its per-provider threshold and bounded counts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.admin.conftest import backdate, bet_and_settle, journal, open_bet
from wallet.models import Bet
from wallet.selectors import (
    BoundedCount,
    StuckReason,
    bounded_count,
    stuck_bets,
    stuck_reasons_of,
    stuck_summary,
    stuck_thresholds,
)
from wallet.services import bet_cancel, bet_open, bet_settle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice")]


def keys(reason: StuckReason, provider: str | None = None) -> set[str]:
    return set(stuck_bets(reason, provider=provider).values_list("bet_key", flat=True))


# --- thresholds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", (10, {})),
        ("15", (15, {})),
        ("jdb:5,naga:30", (10, {"jdb": 5, "naga": 30})),
        ("20, VP:1", (20, {"vp": 1})),
    ],
)
def test_threshold_setting_forms(settings, raw: str, expected: tuple) -> None:
    settings.STUCK_AFTER_MINUTES = raw
    assert stuck_thresholds() == expected


def test_threshold_setting_refuses_garbage(settings) -> None:
    settings.STUCK_AFTER_MINUTES = "jdb:soon"
    with pytest.raises(ValueError):
        stuck_thresholds()


# --- open too long ------------------------------------------------------------------------------


def test_open_bet_is_stuck_only_past_its_providers_threshold(settings) -> None:
    settings.STUCK_AFTER_MINUTES = "buffalo:10,naga:60"
    open_bet("fresh", age_minutes=9)
    open_bet("old", age_minutes=11)
    open_bet("naga-old-ish", provider="naga", age_minutes=30)
    open_bet("naga-old", provider="naga", age_minutes=61)
    assert keys(StuckReason.OPEN_TOO_LONG) == {"old", "naga-old"}
    assert keys(StuckReason.OPEN_TOO_LONG, provider="naga") == {"naga-old"}


def test_threshold_is_read_at_call_time(settings) -> None:
    open_bet("b", age_minutes=5)
    settings.STUCK_AFTER_MINUTES = "buffalo:10"
    assert keys(StuckReason.OPEN_TOO_LONG) == set()
    settings.STUCK_AFTER_MINUTES = "buffalo:4"
    assert keys(StuckReason.OPEN_TOO_LONG) == {"b"}


def test_settled_cancelled_refused_and_tombstoned_bets_are_not_open_too_long() -> None:
    for key in ("settled", "cancelled"):
        open_bet(key, age_minutes=120)
    bet_settle(provider="buffalo", bet_keys=["settled"], tx_id="win-1", amount=Decimal(1))
    bet_cancel(provider="buffalo", bet_keys=["cancelled"], tx_id="c-1")
    bet_open(
        provider="buffalo",
        bet_key="refused",
        tx_id="tx-r",
        account_id="alice",
        currency="USD",
        amount=Decimal("1000"),
    )
    bet_cancel(provider="buffalo", bet_keys=["tomb"])
    for bet in Bet.objects.all():
        backdate(bet, 120)
    assert keys(StuckReason.OPEN_TOO_LONG) == set()


# --- flagged for review, late arrival --------------------------------------------------------


def test_flagged_bets_and_late_arrivals_are_separate_reasons() -> None:
    open_bet("reused", amount="10")
    open_bet("reused", amount="11")  # same key, other amount: flagged
    bet_cancel(provider="buffalo", bet_keys=["late"], account_id="alice")
    open_bet("late")  # arrives after its cancel: refused and flagged
    assert keys(StuckReason.NEEDS_REVIEW) == {"reused"}
    assert keys(StuckReason.LATE_ARRIVAL) == {"late"}
    late = Bet.objects.get(bet_key="late")
    assert late.late_arrival_at is not None and late.state == "tombstone"


def test_a_reviewed_late_arrival_is_no_longer_stuck() -> None:
    bet_cancel(provider="buffalo", bet_keys=["late"], account_id="alice")
    open_bet("late")
    Bet.objects.filter(bet_key="late").update(needs_review=False)
    assert keys(StuckReason.LATE_ARRIVAL) == set()


# --- cancel answered "try again" ---------------------------------------------------------------


def test_open_bet_whose_cancel_was_answered_busy_is_stuck_until_a_cancel_goes_through() -> None:
    open_bet("b1")
    journal("buffalo", "b1", is_cancel=True, outcome="busy", minutes_ago=3)
    assert keys(StuckReason.CANCEL_RETRY) == {"b1"}
    # The provider's retry goes through: the bet is cancelled and no longer stuck.
    bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1")
    journal("buffalo", "b1", is_cancel=True, outcome="cancelled")
    assert keys(StuckReason.CANCEL_RETRY) == set()


def test_unexpected_error_on_a_cancel_counts_as_a_retry_answer() -> None:
    bet_and_settle("r1", provider="jdb")  # JDB Action 8, then Action 4 answered 9017
    journal("jdb", "r1", is_cancel=True, outcome="error", action="4")
    assert keys(StuckReason.CANCEL_RETRY, provider="jdb") == {"r1"}


def test_a_later_definitive_cancel_answer_closes_the_retry_even_without_money() -> None:
    bet_and_settle("r1", provider="jdb")
    journal("jdb", "r1", is_cancel=True, outcome="busy", action="4", minutes_ago=5)
    result = bet_cancel(provider="jdb", bet_keys=["r1"], tx_id="r1")  # kept: 6101
    assert result.outcome == "kept"
    journal("jdb", "r1", is_cancel=True, outcome="kept", action="4")
    assert keys(StuckReason.CANCEL_RETRY) == set()


def test_retry_rows_that_are_not_cancels_or_other_bets_do_not_count() -> None:
    open_bet("b1")
    open_bet("b2")
    journal("buffalo", "b1", is_cancel=False, outcome="busy", action="debit")
    journal("vp", "b2", is_cancel=True, outcome="busy")  # same key at another provider
    journal("buffalo", "b2", is_cancel=True, outcome="auth_failed")
    assert keys(StuckReason.CANCEL_RETRY) == set()


def test_a_settled_debit_is_not_waiting_for_a_cancel() -> None:
    open_bet("b1")
    journal("buffalo", "b1", is_cancel=True, outcome="busy")
    bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="w1", amount=Decimal(0))
    assert keys(StuckReason.CANCEL_RETRY) == set()


# --- one bet, summary, bounded counts ----------------------------------------------------------


def test_reasons_of_one_bet(settings) -> None:
    settings.STUCK_AFTER_MINUTES = "5"
    bet = open_bet("b1", age_minutes=30)
    journal("buffalo", "b1", is_cancel=True, outcome="busy")
    assert stuck_reasons_of(bet) == [StuckReason.OPEN_TOO_LONG, StuckReason.CANCEL_RETRY]
    assert stuck_reasons_of(open_bet("b2")) == []


def test_summary_counts_per_provider_and_finds_the_oldest(settings) -> None:
    settings.STUCK_AFTER_MINUTES = "5"
    open_bet("a", age_minutes=10)
    open_bet("b", age_minutes=50)
    open_bet("n", provider="naga", age_minutes=20)
    summary = stuck_summary()
    assert summary.counts["buffalo"][StuckReason.OPEN_TOO_LONG].value == 2
    assert summary.counts["naga"][StuckReason.OPEN_TOO_LONG].value == 1
    assert summary.counts["jdb"][StuckReason.OPEN_TOO_LONG].value == 0
    assert summary.oldest_overall is not None
    assert summary.oldest_overall[1].bet_key == "b"


def test_bounded_count_stops_at_its_limit() -> None:
    for n in range(5):
        open_bet(f"b{n}")
    assert str(bounded_count(Bet.objects.all(), limit=10)) == "5"
    capped = bounded_count(Bet.objects.all(), limit=3)
    assert capped.capped and str(capped) == "3+"
    assert str(BoundedCount(1001)) == "1000+"
