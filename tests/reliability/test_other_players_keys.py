"""A bet key of one player sent by another: refused, no money, and the answer shows the caller's
balance, never the owner's (found by the model test: JDB and VP showed the owner's balance)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.helpers import balance
from tests.reliability.conftest import gambler
from tests.reliability.flows import Answer, Call, Flows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal


@pytest.mark.parametrize(
    ("flow", "code"),
    [("jdb8", "9011"), ("jdb9", "9011"), ("vp", "9999"), ("buffalo", "INVALID_PARAMETER")],
)
def test_a_key_reused_by_another_player_shows_that_players_balance(
    post: Callable[[Call], Answer], flow: str, code: str
) -> None:
    alice, bob = gambler("alice", "USD", "100"), gambler("bob", "USD", "7.50")
    flows = Flows()
    assert post(flows.open(flow, alice, "1001", D("10"), D("3"))).code in ("0000", "OK")
    answer = post(flows.open(flow, bob, "1001", D("1"), D("0")))
    assert answer.code == code
    assert answer.balance == D("7.50")
    assert balance("alice") == (D("93") if flow in ("jdb8", "vp") else D("90"))
    assert balance("bob") == D("7.50")


@pytest.mark.parametrize(("flow", "code"), [("jdb9", "9015"), ("buffalo", "BET_ALREADY_SETTLED")])
def test_a_cancelled_key_sent_by_another_player_shows_that_players_balance(
    post: Callable[[Call], Answer], flow: str, code: str
) -> None:
    alice, bob = gambler("alice", "USD", "100"), gambler("bob", "USD", "7.50")
    flows = Flows()
    post(flows.open(flow, alice, "1001", D("10"), D("0")))
    post(flows.cancel(flow, alice, "1001", "777", D("10")))
    answer = post(flows.open(flow, bob, "1001", D("1"), D("0")))
    assert answer.code == code and answer.balance == D("7.50")
    assert balance("alice") == D("100") and balance("bob") == D("7.50")


def test_a_reversed_vp_round_sent_by_another_player_shows_that_players_balance(
    post: Callable[[Call], Answer], settings
) -> None:
    settings.VP_ROLLBACK_SETTLED = "reverse"
    alice, bob = gambler("alice", "USD", "100"), gambler("bob", "USD", "7.50")
    flows = Flows()
    post(flows.open("vp", alice, "r1", D("10"), D("3")))
    assert post(flows.cancel("vp", alice, "r1", "", D(0))).code == "0000"
    answer = post(flows.open("vp", bob, "r1", D("1"), D("0")))
    assert answer.code == "1006" and answer.balance == D("7.50")
    assert balance("alice") == D("100")
