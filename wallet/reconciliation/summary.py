"""The daily summary: per UTC day, provider and currency, what the ledger moved.

Sign convention (stated in the file's columns and the README): ``stakes``, ``wins``,
``refunds`` and ``deposits`` are positive totals of money in that direction; ``reversals`` and
``staff_adjustments`` are signed like the export's ``amount`` (positive = to the player);
``net`` is the operator's result, positive when the operator won:

    net = stakes - wins - refunds - reversals - staff_adjustments

which is exactly minus the sum of the export's game amounts (everything but deposits) for the
same day, provider and currency, and is ``stakes - wins - refunds`` whenever there are no
reversals or staff adjustments.

``open_bets_at_day_end`` counts bets whose stake was taken before the day ended and that had
no win, refund or reversal yet at that moment; it is worked out from the ledger's times, so a
past day's figure never changes afterwards.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db.models import Count, DateField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate

from wallet.exact_sums import money_sum, money_value
from wallet.models import Bet, LedgerEntry, LedgerKind
from wallet.reconciliation.cells import Cell, amount_cell, csv_chunks, text_cell
from wallet.reconciliation.filters import DateBasis, ReconciliationFilter, filtered_movements
from wallet.reconciliation.transactions import Column

ZERO = Decimal(0)
CLOSING_KINDS = (LedgerKind.WIN, LedgerKind.REFUND, LedgerKind.REVERSAL)

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("day", "The UTC day (YYYY-MM-DD) of the movements, by the file's date_basis."),
    Column("provider", "jdb, vp, naga or buffalo; empty for deposits."),
    Column("currency", "The wallets' currency."),
    Column("movements", "Number of ledger rows (rows of the transaction export) counted here."),
    Column("bets", "Number of bets that took a stake (stake rows)."),
    Column("stakes", "Total staked, positive."),
    Column("wins", "Total won, positive (includes wins credited by staff resolving a bet)."),
    Column("refunds", "Total refunded for cancelled bets, positive (includes staff cancels)."),
    Column("reversals", "Total of reversed rounds, signed: positive = back to the player."),
    Column("staff_adjustments", "Total of staff adjustments, signed: positive = to the player."),
    Column(
        "net",
        "Operator's result, positive = the operator won: "
        "stakes - wins - refunds - reversals - staff_adjustments.",
    ),
    Column("deposits", "Money paid in from outside the games (cashier), positive; not in net."),
    Column(
        "open_bets_at_day_end",
        "Bets staked by the end of the day (UTC) with no win, refund or reversal by then.",
    ),
    Column("date_basis", "'created' (day of the movement) or 'settled' (day the bet closed)."),
)

SUMMARY_HEADER: tuple[str, ...] = tuple(column.name for column in SUMMARY_COLUMNS)

GroupKey = tuple[str, str]  # (provider, currency)


@dataclass
class SummaryRow:
    day: date | None
    provider: str
    currency: str
    movements: int = 0
    bets: int = 0
    stakes: Decimal = ZERO
    wins: Decimal = ZERO
    refunds: Decimal = ZERO
    reversals: Decimal = ZERO
    staff_adjustments: Decimal = ZERO
    deposits: Decimal = ZERO
    open_bets_at_day_end: int = 0

    @property
    def net(self) -> Decimal:
        return self.stakes - self.wins - self.refunds - self.reversals - self.staff_adjustments

    def add(self, other: SummaryRow) -> None:
        """Accumulate another row's flows (open bets are a level, not a flow: not added)."""
        self.movements += other.movements
        self.bets += other.bets
        self.stakes += other.stakes
        self.wins += other.wins
        self.refunds += other.refunds
        self.reversals += other.reversals
        self.staff_adjustments += other.staff_adjustments
        self.deposits += other.deposits


def _sum_of(kind: str) -> Sum:
    return money_sum("amount", filter=Q(kind=kind))


def daily_summary(selection: ReconciliationFilter) -> list[SummaryRow]:
    """One row per day, provider and currency with at least one selected movement."""
    rows = filtered_movements(selection)
    day_of = "bet_closed_at" if selection.basis is DateBasis.SETTLED else "created_at"
    grouped = (
        rows.annotate(day=TruncDate(day_of, tzinfo=UTC))
        .values("day", "provider", "wallet__currency")
        .annotate(
            movements=Count("id"),
            bets=Count("id", filter=Q(kind=LedgerKind.STAKE)),
            stake_sum=_sum_of(LedgerKind.STAKE),
            win_sum=_sum_of(LedgerKind.WIN),
            refund_sum=_sum_of(LedgerKind.REFUND),
            reversal_sum=_sum_of(LedgerKind.REVERSAL),
            staff_sum=_sum_of(LedgerKind.STAFF_ADJUSTMENT),
            deposit_sum=_sum_of(LedgerKind.DEPOSIT),
        )
        .order_by("day", "provider", "wallet__currency")
    )
    summary = [
        SummaryRow(
            day=group["day"],
            provider=group["provider"],
            currency=group["wallet__currency"],
            movements=group["movements"],
            bets=group["bets"],
            stakes=-money_value(group["stake_sum"]),
            wins=money_value(group["win_sum"]),
            refunds=money_value(group["refund_sum"]),
            reversals=money_value(group["reversal_sum"]),
            staff_adjustments=money_value(group["staff_sum"]),
            deposits=money_value(group["deposit_sum"]),
        )
        for group in grouped
    ]
    last_day = max((row.day for row in summary if row.day), default=None)
    if last_day is not None:
        open_at = OpenBetCounter(selection, through=last_day)
        for row in summary:
            if row.day is not None and row.provider:
                row.open_bets_at_day_end = open_at(row.provider, row.currency, row.day)
    return summary


def summary_totals(summary: list[SummaryRow]) -> list[SummaryRow]:
    """Totals per provider and currency over the summary's days; open bets as of its last day."""
    totals: dict[GroupKey, SummaryRow] = {}
    for row in summary:
        key = (row.provider, row.currency)
        total = totals.setdefault(key, SummaryRow(day=None, provider=key[0], currency=key[1]))
        total.add(row)
        total.open_bets_at_day_end = row.open_bets_at_day_end  # rows are in day order
    return [totals[key] for key in sorted(totals)]


class OpenBetCounter:
    """Open bets at the end of any UTC day up to ``through``, per provider and currency.

    open(end of D) = bets staked on or before D - bets first closed on or before D. Two grouped
    queries over the whole history up to ``through`` give the daily counts; prefix sums answer
    each (group, day) without another query.
    """

    def __init__(self, selection: ReconciliationFilter, *, through: date) -> None:
        until = ReconciliationFilter(date_to=through).end
        assert until is not None
        deltas: dict[GroupKey, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        for key, day, count in self._stakes(selection, until):
            deltas[key][day] += count
        for key, day, count in self._first_closes(selection, until):
            deltas[key][day] -= count
        self._days: dict[GroupKey, list[date]] = {}
        self._levels: dict[GroupKey, list[int]] = {}
        for key, by_day in deltas.items():
            days = sorted(by_day)
            level, levels = 0, []
            for day in days:
                level += by_day[day]
                levels.append(level)
            self._days[key], self._levels[key] = days, levels

    def __call__(self, provider: str, currency: str, day: date) -> int:
        key = (provider, currency)
        position = bisect_right(self._days.get(key, []), day)
        return self._levels[key][position - 1] if position else 0

    @staticmethod
    def _stakes(
        selection: ReconciliationFilter, until: datetime
    ) -> Iterator[tuple[GroupKey, date, int]]:
        stakes = LedgerEntry.objects.filter(kind=LedgerKind.STAKE, created_at__lt=until)
        if selection.provider:
            stakes = stakes.filter(provider=selection.provider)
        if selection.currency:
            stakes = stakes.filter(wallet__currency=selection.currency)
        per_day = (
            stakes.annotate(day=TruncDate("created_at", tzinfo=UTC))
            .values("provider", "wallet__currency", "day")
            .annotate(count=Count("id"))
            .order_by()
        )
        for group in per_day:
            yield (group["provider"], group["wallet__currency"]), group["day"], group["count"]

    @staticmethod
    def _first_closes(
        selection: ReconciliationFilter, until: datetime
    ) -> Iterator[tuple[GroupKey, date, int]]:
        first_close = (
            LedgerEntry.objects.filter(bet=OuterRef("pk"), kind__in=CLOSING_KINDS)
            .order_by("created_at", "id")
            .values("created_at")[:1]
        )
        bets = Bet.objects.filter(wallet__isnull=False)
        if selection.provider:
            bets = bets.filter(provider=selection.provider)
        if selection.currency:
            bets = bets.filter(wallet__currency=selection.currency)
        per_day = (
            bets.annotate(closed_at=Subquery(first_close))
            .filter(closed_at__lt=until)
            .annotate(day=TruncDate("closed_at", tzinfo=UTC, output_field=DateField()))
            .values("provider", "wallet__currency", "day")
            .annotate(count=Count("id"))
            .order_by()
        )
        for group in per_day:
            yield (group["provider"], group["wallet__currency"]), group["day"], group["count"]


def summary_cells(row: SummaryRow, basis: str) -> list[Cell]:
    return [
        row.day.isoformat() if row.day else "",
        text_cell(row.provider),
        text_cell(row.currency),
        str(row.movements),
        str(row.bets),
        amount_cell(row.stakes),
        amount_cell(row.wins),
        amount_cell(row.refunds),
        amount_cell(row.reversals),
        amount_cell(row.staff_adjustments),
        amount_cell(row.net),
        amount_cell(row.deposits),
        str(row.open_bets_at_day_end),
        basis,
    ]


def summary_chunks(selection: ReconciliationFilter, *, bom: bool = True) -> Iterator[bytes]:
    """The daily summary as UTF-8 CSV chunks."""
    basis = selection.basis.value
    rows = (summary_cells(row, basis) for row in daily_summary(selection))
    return csv_chunks(SUMMARY_HEADER, rows, bom=bom)
