"""The daily summary: per UTC day, provider and currency, what the ledger moved.

Sign convention (stated in the file's columns and the README): ``stakes``, ``wins``,
``refunds``, ``deposits`` and ``withdrawals`` are positive totals of money in that direction;
``reversals`` and ``staff_adjustments`` are signed like the export's ``amount`` (positive = to
the player);
``net`` is the operator's result, positive when the operator won:

    net = stakes - wins - refunds - reversals - staff_adjustments

which is exactly minus the sum of the export's game amounts (everything but the cashier's
deposits and withdrawals) for the
same day, provider and currency, and is ``stakes - wins - refunds`` whenever there are no
reversals or staff adjustments.

``open_bets_at_day_end`` counts bets whose stake was taken before the day ended and that had
no win, refund or reversal yet at that moment; it is worked out from the ledger's times, so a
past day's figure never changes afterwards.

Two statements do the work (a million movements: about a second of PostgreSQL's time,
docs/performance.md): the flows, grouped by day, provider, currency and kind, and each bet's
first close for the open-bet count (on PostgreSQL from the index ``ledger_bet_first_close``;
on SQLite, the demo, with the ORM). The same rows and figures on both databases.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DateField, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncDate

from wallet.balances import currency_balances_before
from wallet.chain_verify import chain_digest
from wallet.exact_sums import money_sum, money_value
from wallet.models import Bet, LedgerEntry, LedgerKind, Wallet
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
    Column("withdrawals", "Money paid out to the cashier, positive; not in net."),
    Column(
        "open_bets_at_day_end",
        "Bets staked by the end of the day (UTC) with no win, refund or reversal by then.",
    ),
    Column("date_basis", "'created' (day of the movement) or 'settled' (day the bet closed)."),
    Column(
        "opening_balance",
        "Every wallet of the currency together, at the start of the day (UTC), whatever the "
        "provider filter; the same on each row of the day and currency.",
    ),
    Column(
        "closing_balance",
        "The same at the end of the day: opening_balance plus the day's signed movements of "
        "every provider (deposits - withdrawals - net, by created day).",
    ),
    Column(
        "chain_digest",
        "SHA-256 of every wallet's ledger chain head at the end of the day (docs/ledger-chain.md): "
        "keep a copy; verify_ledger --digest DAY=HEX checks it.",
    ),
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
    withdrawals: Decimal = ZERO
    open_bets_at_day_end: int = 0
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    chain_digest: str = ""

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
        self.withdrawals += other.withdrawals


#: Where each kind's total goes in a summary row, and its sign there (stakes are positive).
_FLOWS: dict[str, tuple[str, int]] = {
    LedgerKind.STAKE: ("stakes", -1),
    LedgerKind.WIN: ("wins", 1),
    LedgerKind.REFUND: ("refunds", 1),
    LedgerKind.REVERSAL: ("reversals", 1),
    LedgerKind.STAFF_ADJUSTMENT: ("staff_adjustments", 1),
    LedgerKind.DEPOSIT: ("deposits", 1),
    LedgerKind.WITHDRAWAL: ("withdrawals", -1),
}


def daily_summary(selection: ReconciliationFilter) -> list[SummaryRow]:
    """One row per day, provider and currency with at least one selected movement."""
    with planner_settings(SUMMARY_SETTINGS):
        summary = _flows(selection)
        last_day = max((row.day for row in summary if row.day), default=None)
        if last_day is not None:
            stakes = _stakes_of(summary) if selection.basis is DateBasis.CREATED else None
            open_at = OpenBetCounter(selection, through=last_day, stakes=stakes)
            for row in summary:
                if row.day is not None and row.provider:
                    row.open_bets_at_day_end = open_at(row.provider, row.currency, row.day)
        _add_day_ends(summary)
    return summary


def _add_day_ends(summary: list[SummaryRow]) -> None:
    """Each day's opening and closing balances per currency and its chain digest.

    Both balances come from ``currency_balances_before`` at the day's bounds, the rule that
    makes the closing balance the opening one plus exactly the day's ledger rows; a day's
    closing balance is the next day's opening one (one query for both).
    """
    days = sorted({row.day for row in summary if row.day is not None})
    balances: dict[date, dict[str, Decimal]] = {}
    for day in (*days, *(day + timedelta(days=1) for day in days)):
        if day not in balances:
            balances[day] = currency_balances_before(_start_of(day))
    digests = {day: chain_digest(_start_of(day + timedelta(days=1))) for day in days}
    for row in summary:
        if row.day is None:
            continue
        row.opening_balance = balances[row.day].get(row.currency, ZERO)
        row.closing_balance = balances[row.day + timedelta(days=1)].get(row.currency, ZERO)
        row.chain_digest = digests[row.day]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _flows(selection: ReconciliationFilter) -> list[SummaryRow]:
    """The summary's rows without open bets: one grouped query, one line per day, provider,
    currency and kind (a single sum per line: six filtered sums per group took twice the time
    on PostgreSQL), folded here into one row per day, provider and currency, in SQL's order."""
    rows = filtered_movements(selection)
    day_of = "bet_closed_at" if selection.basis is DateBasis.SETTLED else "created_at"
    grouped = (
        rows.annotate(day=TruncDate(day_of, tzinfo=UTC))
        .values_list("day", "provider", "wallet__currency", "kind")
        .annotate(movements=Count("id"), total=money_sum("amount"))
    )
    summary: dict[tuple[date, str, str], SummaryRow] = {}
    lines = _in_order(grouped, "day", "provider", "wallet__currency", "kind")
    for day, provider, currency, kind, movements, total in lines:
        row = summary.get((day, provider, currency))
        if row is None:
            row = summary[day, provider, currency] = _empty_row(day, provider, currency)
        row.movements += movements
        if kind == LedgerKind.STAKE:
            row.bets += movements
        if kind in _FLOWS:
            column, sign = _FLOWS[kind]
            setattr(row, column, money_value(total) if sign > 0 else -money_value(total))
    return list(summary.values())


def _empty_row(day: date, provider: str, currency: str) -> SummaryRow:
    """A kind without rows in a group totals 0.000000, as an empty sum reads (``money_value``)."""
    none = money_value(None)
    return SummaryRow(
        day, provider, currency, stakes=none, wins=none, refunds=none, reversals=none,
        staff_adjustments=none, deposits=none, withdrawals=none,
    )  # fmt: skip


def _in_order(grouped: QuerySet[Any, tuple[Any, ...]], *columns: str) -> Iterable[tuple[Any, ...]]:
    """A grouped query's lines sorted by ``columns`` (its first ones), in the database's order.

    On PostgreSQL the sort is put around the grouping: an ``ORDER BY`` on the grouped query
    itself makes the planner sort the million rows to group them (an external sort), where
    a hash of the few hundred groups, sorted afterwards, takes a quarter of the time.
    """
    if connection.vendor != "postgresql":
        return grouped.order_by(*columns)
    sql, params = grouped.order_by().query.sql_with_params()
    positions = ", ".join(str(n) for n in range(1, len(columns) + 1))
    with connection.cursor() as cursor:
        # The ORM's own statement (values are parameters) and column positions: no input.
        cursor.execute(f"SELECT * FROM ({sql}) grouped ORDER BY {positions}", params)  # noqa: S608
        return cursor.fetchall()


def _stakes_of(summary: list[SummaryRow]) -> list[tuple[GroupKey, date, int]]:
    """By created day, a summary's ``bets`` are its stakes per day: all of them from its first
    day on, which spares the open-bet count a pass over those rows."""
    return [((r.provider, r.currency), r.day, r.bets) for r in summary if r.bets and r.day]


#: Planner settings for all the summary's queries on PostgreSQL: compiling a one-off aggregate
#: (JIT) costs more than it saves.
SUMMARY_SETTINGS: tuple[tuple[str, str], ...] = (("jit", "off"),)

#: And for the first closes: the index ``ledger_bet_first_close`` (migration 0008) gives each
#: bet's first close in bet order, to be merged with the bets' primary key. Left to itself the
#: planner hashes half a million of them instead, once in each parallel worker (three times the
#: work on two cores).
FIRST_CLOSE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("enable_hashjoin", "off"),
    ("max_parallel_workers_per_gather", "0"),
)


@contextmanager
def planner_settings(settings: Sequence[tuple[str, str]]) -> Iterator[None]:
    """On PostgreSQL: the statements inside run in a transaction with these settings, local to
    it (``set_config(..., true)``) and put back as they were on the way out, so that an outer
    transaction goes on with its own. Nothing on SQLite (a transaction there would take the
    write lock)."""
    if connection.vendor != "postgresql":
        yield
        return
    names = [name for name, _ in settings]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        before = cursor.fetchone()
        assert before is not None
        _set_locally(cursor, settings)
        yield
        _set_locally(cursor, list(zip(names, before, strict=True)))


def _set_locally(cursor: Any, settings: Sequence[tuple[str, str]]) -> None:
    calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))
    cursor.execute(f"SELECT {calls}", [value for setting in settings for value in setting])


def summary_totals(summary: list[SummaryRow]) -> list[SummaryRow]:
    """Totals per provider and currency over the summary's days; open bets as of its last day."""
    totals: dict[GroupKey, SummaryRow] = {}
    for row in summary:
        key = (row.provider, row.currency)
        total = totals.setdefault(key, SummaryRow(day=None, provider=key[0], currency=key[1]))
        total.add(row)
        total.open_bets_at_day_end = row.open_bets_at_day_end  # rows are in day order
        if total.opening_balance is None:
            total.opening_balance = row.opening_balance
        total.closing_balance = row.closing_balance
    return [totals[key] for key in sorted(totals)]


class OpenBetCounter:
    """Open bets at the end of any UTC day up to ``through``, per provider and currency.

    open(end of D) = bets staked on or before D - bets first closed on or before D. Grouped
    queries over the whole history up to ``through`` give the daily counts; prefix sums answer
    each (group, day) without another query.

    ``stakes``: the stakes per group and day from the selection's first day on, when the caller
    has them already (the summary by created day); only the stakes before that day are then
    counted here, as one level per group. Without them every stake up to ``through`` is.
    """

    def __init__(
        self,
        selection: ReconciliationFilter,
        *,
        through: date,
        stakes: Iterable[tuple[GroupKey, date, int]] | None = None,
    ) -> None:
        until = ReconciliationFilter(date_to=through).end
        assert until is not None
        deltas: dict[GroupKey, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        if stakes is None:
            stakes = self._stakes(selection, until)
        elif selection.date_from is not None:
            stakes = chain(stakes, self._stakes_before(selection, selection.date_from))
        for key, day, count in stakes:
            deltas[key][day] += count
        first_closes = (
            self._first_closes_sql(selection, until)
            if connection.vendor == "postgresql"
            else self._first_closes(selection, until)
        )
        for key, day, count in first_closes:
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
    def _stake_rows(selection: ReconciliationFilter) -> QuerySet[LedgerEntry]:
        stakes = LedgerEntry.objects.filter(kind=LedgerKind.STAKE)
        if selection.provider:
            stakes = stakes.filter(provider=selection.provider)
        if selection.currency:
            stakes = stakes.filter(wallet__currency=selection.currency)
        return stakes

    @classmethod
    def _stakes(
        cls, selection: ReconciliationFilter, until: datetime
    ) -> Iterator[tuple[GroupKey, date, int]]:
        per_day = (
            cls._stake_rows(selection)
            .filter(created_at__lt=until)
            .annotate(day=TruncDate("created_at", tzinfo=UTC))
            .values("provider", "wallet__currency", "day")
            .annotate(count=Count("id"))
            .order_by()
        )
        for group in per_day:
            yield (group["provider"], group["wallet__currency"]), group["day"], group["count"]

    @classmethod
    def _stakes_before(
        cls, selection: ReconciliationFilter, first_day: date
    ) -> Iterator[tuple[GroupKey, date, int]]:
        """Stakes before ``first_day``, each group's count put on the day before it."""
        start = ReconciliationFilter(date_from=first_day).start
        day_before = first_day - timedelta(days=1)
        per_group = (
            cls._stake_rows(selection)
            .filter(created_at__lt=start)
            .values("provider", "wallet__currency")
            .annotate(count=Count("id"))
            .order_by()
        )
        for group in per_group:
            yield (group["provider"], group["wallet__currency"]), day_before, group["count"]

    @staticmethod
    def _first_closes(
        selection: ReconciliationFilter, until: datetime
    ) -> Iterator[tuple[GroupKey, date, int]]:
        """Bets first closed per day, with the ORM (SQLite): one subquery per bet."""
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

    @staticmethod
    def _first_closes_sql(
        selection: ReconciliationFilter, until: datetime
    ) -> Iterator[tuple[GroupKey, date, int]]:
        """The same counts on PostgreSQL in one pass: each bet's first close is the earliest of
        its closing rows (one grouped scan of the ledger, not a subquery per bet), joined to
        the bet for its provider and wallet as ``_first_closes`` groups them."""
        sql = _FIRST_CLOSES_SQL.format(
            ledger=LedgerEntry._meta.db_table,
            bet=Bet._meta.db_table,
            wallet=Wallet._meta.db_table,
            provider="AND b.provider = %(provider)s" if selection.provider else "",
            currency="AND w.currency = %(currency)s" if selection.currency else "",
        )
        params: dict[str, Any] = {
            "closing": list(CLOSING_KINDS),
            "until": until,
            "provider": selection.provider,
            "currency": selection.currency,
        }
        with planner_settings(FIRST_CLOSE_SETTINGS), connection.cursor() as cursor:
            cursor.execute(sql, params)
            lines = cursor.fetchall()
        for provider, currency, day, count in lines:
            yield (provider, currency), day, count


_FIRST_CLOSES_SQL = """
SELECT b.provider, w.currency, (closes.first_at AT TIME ZONE 'UTC')::date, COUNT(*)
FROM (
    SELECT bet_id, MIN(created_at) AS first_at
    FROM {ledger}
    WHERE bet_id IS NOT NULL AND kind = ANY(%(closing)s) AND created_at < %(until)s
    GROUP BY bet_id
) closes
JOIN {bet} b ON b.id = closes.bet_id
JOIN {wallet} w ON w.id = b.wallet_id
WHERE TRUE {provider} {currency}
GROUP BY 1, 2, 3
"""


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
        amount_cell(row.withdrawals),
        str(row.open_bets_at_day_end),
        basis,
        amount_cell(row.opening_balance),
        amount_cell(row.closing_balance),
        row.chain_digest,
    ]


def summary_chunks(selection: ReconciliationFilter, *, bom: bool = True) -> Iterator[bytes]:
    """The daily summary as UTF-8 CSV chunks."""
    basis = selection.basis.value
    rows = (summary_cells(row, basis) for row in daily_summary(selection))
    return csv_chunks(SUMMARY_HEADER, rows, bom=bom)
