"""Read-only queries over wallets and bets (no locks, no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from journal.models import JournalEntry
from wallet.models import Bet, BetKind, BetState, Provider, Wallet


def bet_find(*, provider: str, bet_key: str) -> Bet | None:
    """The bet with this key at this provider, or None."""
    return Bet.objects.filter(provider=provider, bet_key=bet_key).first()


def player_balance(*, account_id: str, currency: str = "") -> tuple[Decimal, str] | None:
    """A player's balance and its currency, for an answer that must show it (no lock).

    With ``currency`` that wallet; without it (or when the player has no such wallet) the
    player's only wallet. None when the player is unknown or the wallet is ambiguous.
    """
    wallets = list(
        Wallet.objects.filter(player__account_id=account_id).values_list("balance", "currency")[:5]
    )
    chosen = [w for w in wallets if w[1] == currency] if currency else []
    if not chosen and len(wallets) == 1:
        chosen = wallets
    return (chosen[0][0], chosen[0][1]) if chosen else None


def bet_win_tx_ids(*, bet_id: int) -> list[str]:
    """The provider transaction ids that credited wins to this bet, oldest first."""
    from wallet.models import LedgerEntry, LedgerKind

    rows = LedgerEntry.objects.filter(bet_id=bet_id, kind=LedgerKind.WIN).order_by("id")
    return list(rows.values_list("provider_tx_id", flat=True))


# --- Stuck bets (the support back office) -------------------------------------------------------
# "Stuck" is precise so that the dashboard counts, the changelist filter and the README agree.
# Each reason is one ``Q`` over the bet table, served by an index (see wallet migrations).


class StuckReason(StrEnum):
    """Why support should look at a bet. One bet may be stuck for several reasons."""

    OPEN_TOO_LONG = "open_too_long"
    NEEDS_REVIEW = "needs_review"
    CANCEL_RETRY = "cancel_retry"
    LATE_ARRIVAL = "late_arrival"

    @property
    def label(self) -> str:
        return STUCK_REASON_LABELS[self][0]

    @property
    def explanation(self) -> str:
        return STUCK_REASON_LABELS[self][1]


STUCK_REASON_LABELS: dict[StuckReason, tuple[str, str]] = {
    StuckReason.OPEN_TOO_LONG: (
        "Open too long",
        "The stake was taken but no settle or cancel came within the provider's time limit.",
    ),
    StuckReason.NEEDS_REVIEW: (
        "Flagged for review",
        "A provider sent something that did not fit (other amount, cancel after payout, "
        "settle of a cancelled bet, reused id). No money moved for it.",
    ),
    StuckReason.CANCEL_RETRY: (
        "Cancel not finished",
        "The provider's last cancel was answered 'try again' (JDB 9017, VP 9999, Buffalo "
        "TEMPORARY_ERROR, Naga 503) and no cancel has gone through since.",
    ),
    StuckReason.LATE_ARRIVAL: (
        "Bet after its cancel",
        "The provider cancelled this bet before it arrived; the bet came later and was "
        "refused. No money moved. Check the provider agrees the round is void.",
    ),
}

#: Answers that tell a provider to send the cancel again (journal outcomes).
RETRY_OUTCOMES: tuple[str, ...] = ("busy", "error")
DEFAULT_STUCK_MINUTES = 10
#: Counts shown to staff stop here ("1000+"): an exact COUNT over millions of rows is slow.
COUNT_LIMIT = 1000


def stuck_thresholds() -> tuple[int, dict[str, int]]:
    """(default minutes, {provider: minutes}) from ``settings.STUCK_AFTER_MINUTES``.

    The setting is ``"15"``, ``"jdb:10,naga:30"`` or both (``"15,naga:30"``), read at call time.
    """
    raw = getattr(settings, "STUCK_AFTER_MINUTES", "") or ""
    default, per_provider = DEFAULT_STUCK_MINUTES, {}
    for part in str(raw).split(","):
        part = part.strip()
        if not part:
            continue
        name, _, minutes = part.rpartition(":")
        value = int(minutes)
        if value < 0:
            raise ValueError(f"STUCK_AFTER_MINUTES: negative minutes in {part!r}")
        if name.strip():
            per_provider[name.strip().lower()] = value
        else:
            default = value
    return default, per_provider


def stuck_after_minutes(provider: str) -> int:
    default, per_provider = stuck_thresholds()
    return per_provider.get(provider, default)


def _open_too_long_q(now: datetime, provider: str | None = None) -> Q:
    default, per_provider = stuck_thresholds()
    providers = {provider} if provider else {p.value for p in Provider} | set(per_provider)
    # One (provider, created_at) range per provider keeps each branch on the
    # ``bet_state_age`` index (state, provider, created_at).
    by_provider = Q()
    for provider in sorted(providers):
        minutes = per_provider.get(provider, default)
        by_provider |= Q(provider=provider, created_at__lt=now - timedelta(minutes=minutes))
    return Q(state=BetState.OPEN) & by_provider


def _retry_cancel_rows() -> Any:
    return JournalEntry.objects.filter(is_cancel=True, outcome__in=RETRY_OUTCOMES)


def _cancel_retry_q(provider: str | None = None) -> Q:
    """Bets whose last cancel was answered 'try again' and that no cancel has closed since."""
    answered_since = JournalEntry.objects.filter(
        provider=OuterRef("provider"),
        bet_key=OuterRef("bet_key"),
        is_cancel=True,
        created_at__gt=OuterRef("created_at"),
    ).exclude(outcome__in=RETRY_OUTCOMES)
    pending_retry = (
        _retry_cancel_rows()
        .filter(provider=OuterRef("provider"), bet_key=OuterRef("bet_key"))
        .filter(~Exists(answered_since))
    )
    # Only bets whose money a cancel could still change: open debits, and bet-and-settle rounds
    # (JDB Action 4, VP rollback) that no cancel has decided yet.
    undecided = Q(state=BetState.OPEN) | Q(state=BetState.SETTLED, kind=BetKind.BET_AND_SETTLE)
    matching = Bet.objects.filter(undecided, cancel_outcome="").filter(Exists(pending_retry))
    if provider:
        matching = matching.filter(provider=provider)
    # As ``id IN (subquery)`` PostgreSQL starts from the few "try again" journal rows (partial
    # index ``journal_cancel_retry``); as a plain EXISTS under ORDER BY created_at it may walk
    # the whole bet table newest-first looking for them (measured: 320 ms at 1M bets).
    return Q(pk__in=matching.values("pk"))


def stuck_q(reason: StuckReason, *, now: datetime | None = None, provider: str | None = None) -> Q:
    """The condition for one reason, to filter ``Bet.objects`` with.

    With ``provider`` the condition is narrowed to that provider, which keeps the per-provider
    age limit a single index range.
    """
    now = now or timezone.now()
    if reason == StuckReason.OPEN_TOO_LONG:
        return _open_too_long_q(now, provider)
    if reason == StuckReason.NEEDS_REVIEW:
        return Q(needs_review=True, late_arrival_at__isnull=True)
    if reason == StuckReason.LATE_ARRIVAL:
        return Q(needs_review=True, late_arrival_at__isnull=False)
    if reason == StuckReason.CANCEL_RETRY:
        return _cancel_retry_q(provider)
    raise ValueError(f"unknown stuck reason {reason!r}")


def stuck_bets(
    reason: StuckReason, *, provider: str | None = None, now: datetime | None = None
) -> QuerySet[Bet]:
    """Bets stuck for ``reason`` (optionally at one provider), oldest first."""
    bets = Bet.objects.filter(stuck_q(reason, now=now, provider=provider))
    if provider:
        bets = bets.filter(provider=provider)
    return bets.order_by("created_at", "id")


def stuck_reasons_of(bet: Bet, *, now: datetime | None = None) -> list[StuckReason]:
    """The reasons this one bet is stuck for (empty when it is not)."""
    return [
        reason
        for reason in StuckReason
        if Bet.objects.filter(pk=bet.pk).filter(stuck_q(reason, now=now)).exists()
    ]


@dataclass(frozen=True)
class BoundedCount:
    """A count that stops at ``limit``: shown as "1000+" when it reached it."""

    value: int
    limit: int = COUNT_LIMIT

    @property
    def capped(self) -> bool:
        return self.value > self.limit

    def __str__(self) -> str:
        return f"{self.limit}+" if self.capped else str(self.value)


def bounded_count(queryset: QuerySet[Any], limit: int = COUNT_LIMIT) -> BoundedCount:
    """COUNT over at most ``limit + 1`` rows (a LIMIT subquery), never the whole table."""
    return BoundedCount(queryset.order_by()[: limit + 1].count(), limit)


@dataclass(frozen=True)
class StuckSummary:
    """Stuck counts per provider and reason, and the oldest stuck bet of each."""

    counts: dict[str, dict[StuckReason, BoundedCount]]
    oldest: dict[StuckReason, Bet | None]

    @property
    def oldest_overall(self) -> tuple[StuckReason, Bet] | None:
        found = [(reason, bet) for reason, bet in self.oldest.items() if bet is not None]
        return min(found, key=lambda pair: pair[1].created_at) if found else None


def stuck_summary(*, now: datetime | None = None) -> StuckSummary:
    """Bounded counts of stuck bets by provider and reason, for the dashboard."""
    now = now or timezone.now()
    counts: dict[str, dict[StuckReason, BoundedCount]] = {}
    for provider in Provider:
        counts[provider.value] = {
            reason: bounded_count(stuck_bets(reason, provider=provider.value, now=now))
            for reason in StuckReason
        }
    oldest = {reason: stuck_bets(reason, now=now).first() for reason in StuckReason}
    return StuckSummary(counts=counts, oldest=oldest)
