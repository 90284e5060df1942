"""The filters every finance file shares: provider, currency, and a range of UTC days.

The days select movements either by when the money moved (``created``) or by when their bet
was settled (``settled``: the settle time, or for a cancelled bet the cancel time). Both ends
are whole UTC days and inclusive: ``2026-01-01..2026-01-31`` is January in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from django.db.models import Case, DateTimeField, F, Q, QuerySet, When

from wallet.models import BetState, LedgerEntry


class DateBasis(StrEnum):
    CREATED = "created"
    SETTLED = "settled"

    @property
    def label(self) -> str:
        if self is DateBasis.CREATED:
            return "the time the money moved"
        return "the time its bet was settled (or cancelled)"


@dataclass(frozen=True)
class ReconciliationFilter:
    """Which movements a finance file covers. Empty provider/currency means all of them."""

    provider: str = ""
    currency: str = ""
    date_from: date | None = None
    date_to: date | None = None
    basis: DateBasis = DateBasis.CREATED

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("the first day is after the last day")

    @property
    def start(self) -> datetime | None:
        """The first instant covered (inclusive), or None for "from the beginning"."""
        return _midnight(self.date_from) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        """The first instant no longer covered (exclusive), or None for "until now"."""
        return _midnight(self.date_to + timedelta(days=1)) if self.date_to else None

    def file_stem(self, what: str) -> str:
        """A file name that says what is inside: ``transactions_created_2026-01-01_...``."""
        parts = [
            what,
            self.basis.value,
            self.date_from.isoformat() if self.date_from else "start",
            self.date_to.isoformat() if self.date_to else "now",
            self.provider or "all-providers",
            self.currency or "all-currencies",
        ]
        return "_".join(parts)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


#: When a bet was closed: the settle time of a settled bet, the cancel time of a cancelled one.
BET_CLOSED_AT = Case(
    When(bet__state=BetState.SETTLED, then=F("bet__settled_at")),
    When(bet__state=BetState.CANCELLED, then=F("bet__cancelled_at")),
    default=None,
    output_field=DateTimeField(),
)


def filtered_movements(
    selection: ReconciliationFilter, queryset: QuerySet[LedgerEntry] | None = None
) -> QuerySet[LedgerEntry]:
    """Ledger rows matching the filter (unordered, not yet evaluated)."""
    rows = queryset if queryset is not None else LedgerEntry.objects.all()
    if selection.provider:
        rows = rows.filter(provider=selection.provider)
    if selection.currency:
        rows = rows.filter(wallet__currency=selection.currency)
    if selection.basis is DateBasis.CREATED:
        if selection.start:
            rows = rows.filter(created_at__gte=selection.start)
        if selection.end:
            rows = rows.filter(created_at__lt=selection.end)
        return rows
    # Settled basis: only movements of bets that are closed; deposits have no bet at all.
    rows = rows.annotate(bet_closed_at=BET_CLOSED_AT).filter(bet_closed_at__isnull=False)
    window = Q()
    if selection.start:
        window &= Q(bet_closed_at__gte=selection.start)
    if selection.end:
        window &= Q(bet_closed_at__lt=selection.end)
    return rows.filter(window)


def utc_day(value: datetime) -> date:
    return value.astimezone(UTC).date()
