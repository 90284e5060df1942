"""Buffalo requests racing on real PostgreSQL row locks, through the real endpoint, on threads."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from providers.buffalo.client import build_request
from tests.helpers import (
    balance,
    bet,
    ledger_kinds,
    make_player,
    run_concurrently,
)
from tests.providers.buffalo.conftest import Gambler, new_sid, new_uuid
from tests.providers.conftest import RACE, RowHolder, Sent, send_alone
from wallet.consistency import check_ledger
from wallet.models import BetState, LedgerEntry, Wallet

pytestmark = RACE

D = Decimal


def post(function: str, payload: dict[str, Any]) -> Sent:
    """One request on a client of its own (threads must not share one)."""
    return send_alone(build_request({**payload, "uuid": new_uuid()}, function=function))


def race(*calls: tuple[str, dict[str, Any]]) -> list[str]:
    """Send these requests at the same instant, one thread each; their statuses in order."""
    tasks: list[Callable[[], Sent]] = [functools.partial(post, *call) for call in calls]
    return statuses(run_concurrently(tasks))


def statuses(results: list[Any]) -> list[str]:
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r.json["status"] for r in results]


def test_debit_and_cancel_racing_never_lose_or_make_money(alice: Gambler) -> None:
    for n in range(25):
        ref = f"race-{n}"
        debit, cancel = alice.tx(ref, "10"), alice.tx(ref, "10")
        got = race(("debit", debit), ("cancel", cancel))
        # Either the debit came first and the cancel refunded it, or the cancel came first
        # (a tombstone) and the late debit was refused: the player is even, whichever won.
        assert (got[0], got[1]) in {("OK", "OK"), ("BET_ALREADY_SETTLED", "BET_DOES_NOT_EXIST")}
        assert balance("alice") == D("1000"), (n, got)
        kinds = [k for k, _ in ledger_kinds(ref, "buffalo")]
        assert kinds in ([], ["stake", "refund"])
        assert bet(ref, "buffalo").state in (BetState.CANCELLED, BetState.TOMBSTONE)
    report = check_ledger()
    assert report.ok, [str(p) for p in report.problems]


def test_ten_identical_cancels_at_once_refund_exactly_once(alice: Gambler) -> None:
    assert post("debit", alice.tx("ref-1", "10")).json["status"] == "OK"
    cancel = alice.tx("ref-1", "10")
    got = race(*[("cancel", cancel)] * 10)
    assert sorted(got) == ["BET_ALREADY_SETTLED"] * 9 + ["OK"]
    assert balance("alice") == D("1000")
    assert ledger_kinds("ref-1", "buffalo") == [("stake", D("-10")), ("refund", D("10"))]


def test_credit_and_cancel_racing_decide_once(alice: Gambler) -> None:
    for n in range(10):
        ref = f"cc-{n}"
        assert post("debit", alice.tx(ref, "10")).json["status"] == "OK"
        credit, cancel = alice.tx(ref, "25", tx_id=f"win-{n}"), alice.tx(ref, "10")
        got = race(("credit", credit), ("cancel", cancel))
        assert got in (["OK", "BET_ALREADY_SETTLED"], ["BET_ALREADY_SETTLED", "OK"]), got
        kinds = [k for k, _ in ledger_kinds(ref, "buffalo")]
        assert kinds in (["stake", "win"], ["stake", "refund"]), kinds
    paid = LedgerEntry.objects.filter(kind="win").count()
    assert balance("alice") == D("1000") + D(15) * paid
    assert check_ledger().ok


def test_many_debits_on_one_wallet_never_overdraw(db: None) -> None:
    make_player("carol", "USD", "100")
    carol = Gambler("carol", new_sid("carol"))
    bodies = [carol.tx(f"d-{n}", "10") for n in range(14)]
    got = race(*[("debit", b) for b in bodies])
    assert got.count("OK") == 10 and got.count("INSUFFICIENT_FUNDS") == 4
    assert balance("carol") == D("0")
    assert check_ledger().ok


def test_two_players_betting_at_once_do_not_touch_each_other(alice: Gambler, bob: Gambler) -> None:
    calls = []
    for n in range(6):
        calls += [("debit", alice.tx(f"a-{n}", "1.5")), ("debit", bob.tx(f"b-{n}", "0.25"))]
    assert set(race(*calls)) == {"OK"}
    assert balance("alice") == D("991") and balance("bob") == D("249")
    assert check_ledger().ok


def test_a_lock_held_past_the_bound_answers_temporary_error(
    alice: Gambler, hold_row: Callable[..., RowHolder]
) -> None:
    """Another transaction holds alice's wallet row longer than WALLET_LOCK_TIMEOUT_MS."""
    with hold_row(lambda: Wallet.objects.select_for_update().get(player__account_id="alice")):
        started = time.monotonic()
        sent = post("debit", alice.tx("slow-1", "10"))
        waited = time.monotonic() - started
    assert sent.json["status"] == "TEMPORARY_ERROR"
    assert waited < 3, waited  # bounded (2 s), well under Buffalo's timeout
    assert balance("alice") == D("1000") and ledger_kinds("slow-1", "buffalo") == []
    retry = post("debit", alice.tx("slow-1", "10"))
    assert retry.json["status"] == "OK" and balance("alice") == D("990")
