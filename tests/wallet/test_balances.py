"""Balance as of an instant (``wallet.balances``) against the ledger's running sum.

A hypothesis property test builds random histories (gaps of zero included: rows in the same
microsecond) and checks the balance at 100 random instants per history, exact row times and
their neighbours included, against the sum of the amounts written up to then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallet.balances import balance_as_of, balances_as_of, currency_balances_before
from wallet.models import LedgerEntry, Player, Wallet

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
CENT = Decimal("0.01")


def insert_rows(wallet: Wallet, rows: list[tuple[datetime, Decimal, Decimal]]) -> None:
    """Ledger rows with the times given (the model would stamp them now)."""
    ops = connection.ops
    table = ops.quote_name(LedgerEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (wallet_id, kind, amount, balance_after, provider, "
            "provider_tx_id, reason, created_at) VALUES (%s, 'deposit', %s, %s, '', '', '', %s)",
            [
                (wallet.pk, str(amount), str(after), ops.adapt_datetimefield_value(at))
                for at, amount, after in rows
            ],
        )


def _wallet(account_id: str, currency: str = "USD") -> Wallet:
    player = Player.objects.create(account_id=account_id)
    return Wallet.objects.create(player=player, currency=currency)


steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=90_000_000),  # microseconds since the row before
        st.integers(min_value=-5_000, max_value=10_000),  # cents
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=steps, data=st.data())
def test_balance_as_of_equals_the_running_sum_at_100_instants(history, data) -> None:
    with transaction.atomic():
        wallet = _wallet("prop")
        rows, at, running = [], START, Decimal(0)
        for gap, cents in history:
            at += timedelta(microseconds=gap)
            amount = max(Decimal(cents) * CENT, -running)  # a balance never goes below zero
            running += amount
            rows.append((at, amount, running))
        insert_rows(wallet, rows)
        times = [row[0] for row in rows]
        first, last = times[0], times[-1]
        around = st.sampled_from(times).flatmap(
            lambda t: st.sampled_from(
                [t, t - timedelta(microseconds=1), t + timedelta(microseconds=1)]
            )
        )
        anywhere = st.integers(
            min_value=-1_000_000,
            max_value=int((last - first) / timedelta(microseconds=1)) + 1_000_000,
        ).map(lambda us: first + timedelta(microseconds=us))
        for _ in range(100):
            instant = data.draw(st.one_of(around, anywhere))
            expected = sum((amount for t, amount, _ in rows if t <= instant), Decimal(0))
            assert balance_as_of(wallet.pk, instant) == expected, instant
            before = sum((amount for t, amount, _ in rows if t < instant), Decimal(0))
            assert currency_balances_before(instant).get("USD", Decimal(0)) == before, instant
        transaction.set_rollback(True)


def test_the_rule_at_the_edges() -> None:
    wallet = _wallet("edges")
    t = START
    insert_rows(wallet, [(t, Decimal(10), Decimal(10)), (t, Decimal(5), Decimal(15))])
    assert balance_as_of(wallet.pk, t - timedelta(microseconds=1)) == 0  # before its first row
    assert balance_as_of(wallet.pk, t) == Decimal(15)  # both rows of that microsecond, in id order
    [row] = balances_as_of([wallet], t + timedelta(days=400))
    assert row.balance == Decimal(15) and row.entry_at == t
    assert row.entry_id == LedgerEntry.objects.filter(wallet=wallet).latest("id").pk


def test_opening_and_closing_balances_tie_out_with_the_day_movements() -> None:
    usd, eur, usd2 = _wallet("a"), _wallet("b", "EUR"), _wallet("c")
    day = datetime(2026, 12, 1, tzinfo=UTC)
    insert_rows(
        usd,
        [
            (day - timedelta(microseconds=1), Decimal(100), Decimal(100)),
            (day, Decimal(-30), Decimal(70)),
            (day + timedelta(days=1) - timedelta(microseconds=1), Decimal(1), Decimal(71)),
            (day + timedelta(days=1), Decimal(9), Decimal(80)),
        ],
    )
    insert_rows(usd2, [(day + timedelta(hours=5), Decimal("0.5"), Decimal("0.5"))])
    insert_rows(eur, [(day - timedelta(days=3), Decimal(7), Decimal(7))])
    opening = currency_balances_before(day)
    closing = currency_balances_before(day + timedelta(days=1))
    assert opening == {"EUR": Decimal(7), "USD": Decimal(100)}
    assert closing == {"EUR": Decimal(7), "USD": Decimal("71.5")}
    moved = sum(
        LedgerEntry.objects.filter(
            wallet__currency="USD", created_at__gte=day, created_at__lt=day + timedelta(days=1)
        ).values_list("amount", flat=True),
        Decimal(0),
    )
    assert closing["USD"] - opening["USD"] == moved == Decimal("-28.5")
