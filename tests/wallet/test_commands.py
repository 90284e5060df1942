"""The management commands, run as an operator would run them."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.helpers import balance
from wallet.models import Bet, BetState, LedgerEntry, PlayerSession, Wallet

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_player_create_prints_json_and_writes_the_opening_deposit() -> None:
    printed = json.loads(run("player_create", "p-1", "--currency", "usd", "--balance", "12.34"))
    assert printed == {
        "account_id": "p-1",
        "status": "active",
        "wallets": [{"currency": "USD", "balance": "12.340000"}],
    }
    assert balance("p-1") == Decimal("12.34")
    assert list(LedgerEntry.objects.values_list("kind", "amount")) == [
        ("deposit", Decimal("12.34"))
    ]


@pytest.mark.parametrize("bad", ["-1", "NaN", "1.0000001", "ten"])
def test_player_create_refuses_bad_balances(bad: str) -> None:
    with pytest.raises(CommandError):
        run("player_create", "p-1", "--currency", "USD", "--balance", bad)
    assert not Wallet.objects.exists()


def test_session_create_prints_a_live_token() -> None:
    run("player_create", "p-1", "--currency", "USD")
    token = run("session_create", "p-1", "--provider", "naga", "--ttl", "60").strip()
    session = PlayerSession.objects.get(token=token)
    assert session.player.account_id == "p-1" and session.currency == "USD"
    with pytest.raises(CommandError):
        run("session_create", "nobody", "--provider", "naga")


def test_check_ledger_passes_on_the_demo_and_fails_on_a_tampered_wallet(settings) -> None:
    settings.DEMO_KEYS = True
    run("demo", "--no-migrate")
    assert set(Bet.objects.values_list("state", flat=True)) == set(BetState.values)
    assert "0 problems" in run("check_ledger")
    Wallet.objects.filter(player__account_id="demo_bob").update(balance=Decimal("999.99"))
    with pytest.raises(CommandError, match="1 problems"):
        run("check_ledger")


def test_check_ledger_finds_a_bet_whose_state_disagrees_with_its_rows() -> None:
    run("player_create", "p-1", "--currency", "USD", "--balance", "10")
    from wallet.services import bet_open

    bet_open(
        provider="jdb", bet_key="1", tx_id="1", account_id="p-1", currency="USD", amount=Decimal(4)
    )
    Bet.objects.filter(bet_key="1").update(state=BetState.CANCELLED)
    with pytest.raises(CommandError):
        run("check_ledger")


def test_demo_refuses_to_run_in_production(settings) -> None:
    settings.DEBUG = False
    settings.DEMO_KEYS = False
    with pytest.raises(CommandError, match="never production"):
        run("demo", "--no-migrate")


def test_check_ledger_sums_six_decimal_amounts_exactly_on_every_database() -> None:
    """SQLite sums decimals as floats; the check must not report 0.000568999… != 0.000569.

    (SQLite also stores a decimal as a float, so it keeps 15 significant digits: the demo
    database only. PostgreSQL keeps every digit.)
    """
    from wallet.services import bet_cancel, bet_open

    run("player_create", "p-1", "--currency", "USD", "--balance", "1000.000001")
    for i in range(40):
        bet_open(
            provider="naga",
            bet_key=f"k{i}",
            tx_id=f"t{i}",
            account_id="p-1",
            currency="USD",
            amount=Decimal("0.000569") * (i + 1),
        )
        if i % 3 == 0:
            bet_cancel(provider="naga", bet_keys=[f"k{i}"])
    assert "0 problems" in run("check_ledger")
