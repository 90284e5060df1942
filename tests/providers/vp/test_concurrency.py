"""Rollbacks racing their betNSettle/retryBet on PostgreSQL, with real threads and row locks.

Every round fires the bet, its retry and two rollbacks of the same ``betId`` at once. Whatever
order the database picks, the answers must agree with the money: a bet answered ``0000`` was
applied (and then kept with ``2003``, or reversed), a bet answered ``1006`` moved nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from providers.vp.client import build_request
from tests.helpers import balance, bet, make_player, run_concurrently
from tests.providers.conftest import RACE, send_alone
from tests.providers.vp.conftest import assert_answer, bet_payload, ledger_rows, rollback_payload
from wallet.consistency import check_ledger
from wallet.models import Bet, BetState, Wallet

pytestmark = RACE

D = Decimal
ROUNDS = 30


def post(payload: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """A task that sends one encrypted callback on its own client (and DB connection)."""
    request = build_request(payload)

    def task() -> dict[str, Any]:
        sent = send_alone(request)
        assert sent.status == 200, sent
        return sent.json  # type: ignore[no-any-return]

    return task


def race(bet_id: str, stake: str, win: str, rng: random.Random) -> tuple[set[str], set[str]]:
    """Fire betNSettle, retryBet and two rollbacks together; the bet and rollback codes."""
    tasks = [
        ("bet", post(bet_payload(bet_id, stake, win))),
        ("bet", post(bet_payload(bet_id, stake, win, action="retryBet"))),
        ("rollback", post(rollback_payload(bet_id))),
        ("rollback", post(rollback_payload(bet_id))),
    ]
    rng.shuffle(tasks)
    results = run_concurrently([task for _, task in tasks])
    codes: dict[str, set[str]] = {"bet": set(), "rollback": set()}
    for (kind, _), result in zip(tasks, results, strict=True):
        assert isinstance(result, dict), result  # not an exception raised in the thread
        codes[kind].add(result["status"])
    return codes["bet"], codes["rollback"]


@pytest.fixture
def alice() -> None:
    make_player("alice", "USD", "100")


@pytest.mark.usefixtures("alice")
def test_rollback_racing_its_bet_keeps_or_refuses_but_never_loses_money() -> None:
    rng = random.Random(4)
    applied = 0
    for i in range(ROUNDS):
        bet_id = f"race-keep-{i}"
        bet_codes, rollback_codes = race(bet_id, "10", "15", rng)
        stored = bet(bet_id, "vp")
        if stored.state == BetState.SETTLED:  # the bet won the race; the rollbacks saw it stand
            assert bet_codes == {"0000"} and rollback_codes == {"2003"}, (bet_codes, rollback_codes)
            assert ledger_rows(bet_id) == [("stake", D("-10")), ("win", D("15"))]
            applied += 1
        else:  # a rollback came first: tombstone, the bet and its retry refused
            assert stored.state == BetState.TOMBSTONE, stored.state
            assert bet_codes == {"1006"} and rollback_codes == {"0000"}, (bet_codes, rollback_codes)
            assert ledger_rows(bet_id) == []
    assert balance() == D("100") + applied * D("5")
    assert check_ledger().ok


@pytest.mark.usefixtures("alice")
def test_rollback_racing_its_bet_with_reversal_always_ends_where_it_started(
    settings: Any,
) -> None:
    settings.VP_ROLLBACK_SETTLED = "reverse"
    rng = random.Random(5)
    for i in range(ROUNDS):
        bet_id = f"race-reverse-{i}"
        bet_codes, rollback_codes = race(bet_id, "10", "3", rng)
        assert rollback_codes == {"0000"}
        stored = bet(bet_id, "vp")
        if stored.state == BetState.CANCELLED:  # applied, then reversed exactly once
            assert "0000" in bet_codes and bet_codes <= {"0000", "1006"}
            assert ledger_rows(bet_id) == [
                ("stake", D("-10")),
                ("win", D("3")),
                ("reversal", D("7")),
            ]
        else:
            assert stored.state == BetState.TOMBSTONE
            assert bet_codes == {"1006"} and ledger_rows(bet_id) == []
        assert balance() == D("100"), bet_id
    assert check_ledger().ok


@pytest.mark.usefixtures("alice")
def test_many_concurrent_repeats_of_one_rollback_reverse_once(settings: Any) -> None:
    settings.VP_ROLLBACK_SETTLED = "reverse"
    post(bet_payload("b1", "10", "25"))()
    results = run_concurrently([post(rollback_payload("b1")) for _ in range(8)])
    assert {r["status"] for r in results} == {"0000"}  # type: ignore[index]
    assert balance() == D("100")
    assert ledger_rows("b1") == [("stake", D("-10")), ("win", D("25")), ("reversal", D("-15"))]
    assert check_ledger().ok


@pytest.mark.usefixtures("alice", "short_lock_timeout")
def test_a_rollback_that_cannot_get_the_bet_lock_answers_9999_then_succeeds(
    send: Callable[..., Any], hold_row: Callable[..., Any], settings: Any
) -> None:
    settings.VP_ROLLBACK_SETTLED = "reverse"
    assert_answer(send(build_request(bet_payload("b1", "10", "25"))), "0000", "115.00")
    with hold_row(lambda: Bet.objects.select_for_update().get(provider="vp", bet_key="b1")):
        busy = send(build_request(rollback_payload("b1")))
    assert_answer(busy, "9999", "0.00")
    assert balance() == D("115") and bet("b1", "vp").cancel_outcome == ""
    assert_answer(send(build_request(rollback_payload("b1"))), "0000", "100.00")  # VP's retry
    assert check_ledger().ok


@pytest.mark.usefixtures("alice", "short_lock_timeout")
def test_a_bet_that_cannot_get_the_wallet_lock_answers_9999_and_leaves_no_trace(
    send: Callable[..., Any], hold_row: Callable[..., Any]
) -> None:
    with hold_row(lambda: Wallet.objects.select_for_update().get(player__account_id="alice")):
        busy = send(build_request(bet_payload("b1", "10", "25")))
    assert_answer(busy, "9999", "0.00")
    assert not Bet.objects.filter(provider="vp", bet_key="b1").exists()  # rolled back whole
    assert balance() == D("100")
    assert_answer(send(build_request(bet_payload("b1", "10", "25"))), "0000", "115.00")
    assert check_ledger().ok
