"""Sums of 6-decimal amounts are exact on both databases (SQLite sums floats natively).

``check_ledger`` sums exactly on both databases too (``wallet.exact_sums``), but it runs after
these tests only on PostgreSQL: some amounts here have more than the 15 significant digits that
SQLite keeps in a stored balance (the demo database's limit, not the check's).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db.models import Sum

from tests.finance.conftest import DAY1, DAY2, at, parse_csv, utc
from tests.finance.test_summary import key, totals_from_export
from tests.helpers import ON_POSTGRES, make_player
from wallet.consistency import check_ledger
from wallet.exact_sums import money_sum, money_value
from wallet.models import LedgerEntry
from wallet.reconciliation.filters import ReconciliationFilter
from wallet.reconciliation.summary import summary_chunks
from wallet.reconciliation.transactions import export_chunks
from wallet.services import bet_cancel, bet_open, bet_settle, wallet_deposit

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _ledger_checked_on_postgres() -> Iterator[None]:
    yield
    if ON_POSTGRES:
        report = check_ledger()
        assert report.ok, [str(p) for p in report.problems]


def test_large_amounts_sum_exactly() -> None:
    player = make_player("big", "USD", "999999999.999999")
    wallet_id = player.wallets.get().pk
    for _ in range(2):
        wallet_deposit(wallet_id=wallet_id, amount=D("999999999.999999"), reason="top-up")
    total = LedgerEntry.objects.aggregate(total=money_sum("amount"))["total"]
    assert money_value(total) == D("2999999999.999997")
    gross = LedgerEntry.objects.aggregate(total=money_sum("amount", absolute=True))["total"]
    assert money_value(gross) == D("2999999999.999997")
    # What a plain SUM gives on SQLite (floats), formatted as the CSV would:
    plain = LedgerEntry.objects.aggregate(total=Sum("amount"))["total"]
    assert ON_POSTGRES or f"{plain:.6f}" != "2999999999.999997"


def test_agreement_holds_on_a_larger_random_ledger() -> None:
    rng = random.Random(7)
    with at(utc(DAY1, "00:00:00")):
        make_player("p1", "USD", "100000")
    for n in range(120):
        stake = D(rng.randint(1, 9_999_999)) / D(1_000_000)
        with at(utc(DAY1 if n < 60 else DAY2, f"{n % 24:02d}:{n % 60:02d}:00.{n:06d}")):
            bet_open(provider="vp", bet_key=f"k{n}", tx_id=f"t{n}", account_id="p1",
                     currency="USD", amount=stake)  # fmt: skip
            if n % 3 == 0:
                bet_cancel(provider="vp", bet_keys=[f"k{n}"], tx_id=f"x{n}")
            elif n % 3 == 1:
                win = D(rng.randint(0, 99_999_999)) / D(1_000_000)
                bet_settle(provider="vp", bet_keys=[f"k{n}"], tx_id=f"w{n}", amount=win)
    selection = ReconciliationFilter(provider="vp")
    exported = parse_csv(b"".join(export_chunks(selection)))
    summarised = parse_csv(b"".join(summary_chunks(selection)))
    expected = totals_from_export(exported, "created")
    got = {key(r): {k: r[k] for k in next(iter(expected.values()))} for r in summarised}
    assert got == expected and len(exported) == 120 + 80
