"""Amounts as staff read them, and the benchmark command's guard."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from tests.helpers import ON_POSTGRES
from wallet.display import amount_text, signed_amount_text


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("10.000000"), "USD", "10.00 USD"),
        (Decimal("0.123400"), "", "0.1234"),
        (Decimal("-12.5"), "CNY", "-12.50 CNY"),
        (Decimal("1000000"), "", "1000000.00"),
        ("87.500000", "USD", "87.50 USD"),  # audit snapshots keep amounts as text
        (None, "USD", "\u2013"),
    ],
)
def test_money_is_exact_with_at_least_two_decimals(amount, currency, shown) -> None:
    assert amount_text(amount, currency) == shown


def test_signed_money_marks_credits() -> None:
    assert signed_amount_text(Decimal("2.5"), "USD") == "+2.50 USD"
    assert signed_amount_text(Decimal("-2.5")) == "-2.50"


@pytest.mark.skipif(ON_POSTGRES, reason="checks the refusal on SQLite")
def test_bench_admin_needs_postgresql() -> None:
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("bench_admin", "--bets", "10")
