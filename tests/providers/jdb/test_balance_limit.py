"""A win that would take a balance past what a wallet can hold (numeric(20,6)) is bad input:
JDB's parameter error, no money moved, journaled; never "internal error, try again"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import ON_POSTGRES, balance, make_player
from tests.providers.jdb.jdb_wire import bet_n_settle, credit, debit
from wallet.consistency import check_ledger
from wallet.models import Bet, LedgerEntry

# SQLite's exact sums stop at about 9.2 trillion (wallet/exact_sums.py), so the ledger check
# runs on PostgreSQL only; the refusal itself is tested on both.
pytestmark = [pytest.mark.django_db]

NEARLY_FULL = "99999999999990"  # ten short of the largest balance a wallet holds


@pytest.fixture
def rich() -> None:
    make_player("rich", "CNY", NEARLY_FULL)


@pytest.mark.usefixtures("rich")
def test_bet_n_settle_past_the_balance_limit_is_a_parameter_error(jdb, last_journal) -> None:
    rows = LedgerEntry.objects.count()
    sent = jdb(bet_n_settle(801, "-1", "50", uid="rich"))
    assert sent.json["status"] == "8000", sent.json
    assert "largest balance" in sent.json["err_text"]
    assert balance("rich", "CNY") == Decimal(NEARLY_FULL)
    assert LedgerEntry.objects.count() == rows
    assert not Bet.objects.filter(bet_key="801").exists()
    entry = last_journal()
    assert entry.outcome == "balance_limit"
    assert entry.answer["status"] == "8000"
    assert not ON_POSTGRES or check_ledger().ok


@pytest.mark.usefixtures("rich")
def test_a_settle_past_the_balance_limit_leaves_the_bet_open(jdb) -> None:
    assert jdb(debit(811, "5", uid="rich")).json["status"] == "0000"
    after_stake = balance("rich", "CNY")
    sent = jdb(credit(812, "100", [811], uid="rich"))
    assert sent.json["status"] == "8000", sent.json
    assert balance("rich", "CNY") == after_stake
    assert Bet.objects.get(provider="jdb", bet_key="811").state == "open"
    # The same settle within the limit then goes through: nothing of the refusal stands.
    assert jdb(credit(812, "14", [811], uid="rich")).json["status"] == "0000"
    assert balance("rich", "CNY") == after_stake + 14
    assert not ON_POSTGRES or check_ledger().ok
