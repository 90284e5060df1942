"""Balances as of any instant, read from the ledger's ``balance_after``.

The rule: a wallet's balance at an instant is the ``balance_after`` of its last ledger row
(by ``created_at``, then ``id``) written at or before that instant, or 0 before its first row.
Every ledger row carries the balance after it, so this is one index lookup per wallet (index
``ledger_wallet_time``, migration 0011), never a sum over the wallet's history, and it equals
the running sum of the wallet's amounts up to that instant by construction.

For a period's opening and closing balances use ``currency_balances_before`` with the period's
bounds: the closing balance of a day minus its opening balance is then exactly the sum of the
day's ledger amounts (``day start <= created_at < next day start``), with no row counted twice
or missed at midnight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery

from wallet.exact_sums import money_sum, money_value
from wallet.models import LedgerEntry, Wallet

ZERO = Decimal(0)


@dataclass(frozen=True)
class BalanceAt:
    """One wallet's balance at an instant, and the ledger row it comes from (None: no row yet)."""

    wallet: Wallet
    at: datetime
    balance: Decimal
    entry_id: int | None
    entry_at: datetime | None


def _rows_up_to(at: datetime, *, inclusive: bool) -> QuerySet[LedgerEntry]:
    bound = {"created_at__lte": at} if inclusive else {"created_at__lt": at}
    return LedgerEntry.objects.filter(**bound).order_by("-created_at", "-id")


def balance_as_of(wallet_id: int, at: datetime) -> Decimal:
    """The wallet's balance right after every ledger row written at or before ``at``."""
    last = _rows_up_to(at, inclusive=True).filter(wallet_id=wallet_id)
    found = last.values_list("balance_after", flat=True).first()
    return ZERO if found is None else found


def balances_as_of(wallets: Iterable[Wallet], at: datetime) -> list[BalanceAt]:
    """Each wallet's balance at ``at`` (inclusive), with the ledger row it comes from."""
    shown = []
    for wallet in wallets:
        last = (
            _rows_up_to(at, inclusive=True)
            .filter(wallet_id=wallet.pk)
            .values_list("id", "created_at", "balance_after")
            .first()
        )
        if last is None:
            shown.append(BalanceAt(wallet, at, ZERO, None, None))
        else:
            shown.append(BalanceAt(wallet, at, last[2], last[0], last[1]))
    return shown


def currency_balances_before(instant: datetime) -> dict[str, Decimal]:
    """The total of every wallet's balance per currency just before ``instant`` (rows with
    ``created_at < instant``): a day's opening balance is this at the day's start, its
    closing balance this at the next day's start."""
    last = _rows_up_to(instant, inclusive=False).filter(wallet=OuterRef("pk"))
    totals = (
        Wallet.objects.annotate(balance_then=Subquery(last.values("balance_after")[:1]))
        .values("currency")
        .annotate(total=money_sum("balance_then"))
        .order_by("currency")
    )
    return {row["currency"]: money_value(row["total"]) for row in totals}
