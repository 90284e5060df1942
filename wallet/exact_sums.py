"""Sums of money that are exact on both databases.

PostgreSQL sums ``numeric`` exactly. SQLite stores decimals as floating point and sums them as
floating point (``0.000568999999999598`` for ``0.000569``), so on SQLite amounts are summed as
whole millionths (64-bit integers, exact), then turned back into ``Decimal``. Past about
9.2 trillion in one total SQLite raises "integer overflow" rather than return a wrong figure.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import BigIntegerField, F, Q, Sum
from django.db.models.functions import Abs, Cast, Round

from wallet.models import MONEY_PLACES

_SCALE = 10**MONEY_PLACES
_UNIT = Decimal(1).scaleb(-MONEY_PLACES)


def _exact_in_database() -> bool:
    return connection.vendor != "sqlite"


def money_sum(field: str = "amount", *, absolute: bool = False, filter: Q | None = None) -> Sum:
    """``Sum`` of a money column; read the result through ``money_value``."""
    value: Abs | F = Abs(F(field)) if absolute else F(field)
    if _exact_in_database():
        return Sum(value, filter=filter)
    micros = Cast(Round(value * _SCALE), output_field=BigIntegerField())
    return Sum(micros, filter=filter)


def money_value(total: Decimal | int | None) -> Decimal:
    """A ``money_sum`` result as an exact amount with ``MONEY_PLACES`` decimals (None -> 0)."""
    if total is None:
        return Decimal(0).quantize(_UNIT)
    if _exact_in_database():
        return Decimal(total).quantize(_UNIT)
    return (Decimal(int(total)) / _SCALE).quantize(_UNIT)
