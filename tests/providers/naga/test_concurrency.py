"""Naga's calls racing over HTTP on real PostgreSQL row locks (threads, one connection each)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from providers.client_base import SignedRequest
from providers.naga.client import build_request
from tests.helpers import (
    balance,
    bet,
    ledger_kinds,
    make_player,
    run_concurrently,
)
from tests.providers.conftest import RACE, Sent, send_alone
from tests.providers.naga.conftest import place_bet_data
from wallet.consistency import check_ledger
from wallet.models import BetState
from wallet.services import session_create

pytestmark = RACE

D = Decimal
ROUNDS = 25


def post(signed: SignedRequest) -> Callable[[], Sent]:
    """A task for a thread: its own test client, the request signed beforehand."""

    return lambda: send_alone(signed)


def ok(result: Any) -> Sent:
    assert isinstance(result, Sent), result
    return result


@pytest.fixture
def token() -> str:
    make_player("alice", "USD", "100")
    return session_create(account_id="alice", provider="naga").token


def test_cancel_racing_place_bet_never_loses_or_makes_money(
    token: str, naga_key: rsa.RSAPrivateKey
) -> None:
    for n in range(ROUNDS):
        key = f"race-{n:04d}-0000-0000-0000-000000000000"
        bet_request = build_request(
            place_bet_data(token, key, "10"), function="place-bet", private_key=naga_key
        )
        cancel_request = build_request({"betId": key}, function="cancel-bet", private_key=naga_key)
        placed, cancelled = (
            ok(r) for r in run_concurrently([post(bet_request), post(cancel_request)])
        )
        # Naga's cancel must succeed whichever came first (a failed cancel locks the player).
        assert cancelled.status == 200 and cancelled.json["data"]["status"] == "CANCELED"
        final = bet(key, "naga")
        if final.state == BetState.TOMBSTONE:  # the cancel came first: the bet is refused
            assert placed.status == 400 and placed.json["error"]["message"] == "Bet canceled"
            assert ledger_kinds(key, "naga") == []
        else:  # the bet came first: it was taken, then refunded
            assert final.state == BetState.CANCELLED
            assert placed.status == 200
            assert ledger_kinds(key, "naga") == [("stake", D("-10")), ("refund", D("10"))]
        assert balance() == D("100")
    assert check_ledger().ok


def test_cancel_racing_payout_decides_once(token: str, naga_key: rsa.RSAPrivateKey) -> None:
    for n in range(ROUNDS // 2):
        key = f"pay-{n:04d}-0000-0000-0000-000000000000"
        placed = ok(
            post(
                build_request(
                    place_bet_data(token, key, "10"), function="place-bet", private_key=naga_key
                )
            )()
        )
        assert placed.status == 200
        payout_request = build_request(
            place_bet_data(token, key, "30", tx=f"p-{key}"), function="payout", private_key=naga_key
        )
        cancel_request = build_request({"betId": key}, function="cancel-bet", private_key=naga_key)
        paid, cancelled = (
            ok(r) for r in run_concurrently([post(payout_request), post(cancel_request)])
        )
        final = bet(key, "naga")
        if final.state == BetState.SETTLED:  # payout first: the cancel is refused, no money
            assert paid.status == 200
            assert cancelled.status == 400
            assert cancelled.json["error"]["message"] == "Transaction Seamless Already Resolved"
            assert ledger_kinds(key, "naga") == [("stake", D("-10")), ("win", D("30"))]
        else:  # cancel first: refunded, and the payout is refused
            assert final.state == BetState.CANCELLED and cancelled.status == 200
            assert paid.status == 400 and paid.json["error"]["message"] == "Bet canceled"
            assert ledger_kinds(key, "naga") == [("stake", D("-10")), ("refund", D("10"))]
    settled = sum(
        1
        for n in range(ROUNDS // 2)
        if bet(f"pay-{n:04d}-0000-0000-0000-000000000000", "naga").state == BetState.SETTLED
    )
    assert balance() == D("100") + 20 * settled
    assert check_ledger().ok


def test_the_same_place_bet_three_times_at_once_pays_once(
    token: str, naga_key: rsa.RSAPrivateKey
) -> None:
    key = "triple-0000-0000-0000-000000000000"
    signed = build_request(
        place_bet_data(token, key, "10"), function="place-bet", private_key=naga_key
    )
    answers = [ok(r) for r in run_concurrently([post(signed)] * 3)]
    assert {a.status for a in answers} == {200}
    assert {a.raw for a in answers} == {answers[0].raw}
    assert balance() == D("90")
    assert ledger_kinds(key, "naga") == [("stake", D("-10"))]
    assert check_ledger().ok
