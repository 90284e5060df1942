"""The daily summary against an independent computation, every column of every row.

A random ledger over four UTC days is made through the real wallet services: bets left open
over midnight (and some never closed), several settles of one bet, refunds, reversed rounds,
staff cancels and resolutions, a settle of two bets at once (one credit, on the first), deposits,
withdrawals and staff adjustments, in two currencies. The expected file is worked out here in
plain Python from the ledger rows and the bets, straight from the documented definitions:
flows summed per UTC day, provider and currency; ``open_bets_at_day_end`` counting the bets
staked by the end of the day with no win, refund or reversal by then. On PostgreSQL the
summary's SQL path is compared as well with the ORM path SQLite uses, and the index it reads
is checked.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from tests.finance.conftest import at, parse_csv, staff_adjustment
from tests.helpers import ON_POSTGRES, make_player
from wallet.models import Bet, BetState, LedgerEntry, LedgerKind, Wallet
from wallet.reconciliation.filters import DateBasis, ReconciliationFilter
from wallet.reconciliation.summary import (
    _FIRST_CLOSES_SQL,
    CLOSING_KINDS,
    FIRST_CLOSE_SETTINGS,
    SUMMARY_HEADER,
    OpenBetCounter,
    daily_summary,
    planner_settings,
    summary_chunks,
    summary_totals,
)
from wallet.services import (
    SettledRoundPolicy,
    bet_cancel,
    bet_open,
    bet_place_and_settle,
    bet_settle,
    bet_staff_cancel,
    bet_staff_resolve,
    wallet_deposit,
    wallet_withdraw,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="PostgreSQL only: the summary's SQL path, its index and settings"
)

D = Decimal
DAYS = [date(2026, 5, 1) + timedelta(days=n) for n in range(4)]
PLAYERS = {"ann": "USD", "ben": "USD", "cai": "CNY", "dee": "CNY"}
PROVIDERS = ["jdb", "vp", "naga", "buffalo"]


def moment(day: date, second_of_day: int) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC) + timedelta(seconds=second_of_day)


def money(rng: random.Random, top: int = 20) -> Decimal:
    return D(rng.randint(0, top * 1_000_000)) / D(1_000_000)


_ORDER = itertools.count()


@dataclass
class Seeded:
    """What the random ledger holds, to check that the test covers what it says it does."""

    midnight_bets: set[str] = field(default_factory=set)
    multi_settled: set[str] = field(default_factory=set)
    settled_without_row: set[str] = field(default_factory=set)
    #: Things that happen a while after the event that causes them: (when, order, what).
    later: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)

    def after(self, when: datetime, what: Callable[[], object]) -> None:
        heapq.heappush(self.later, (when, next(_ORDER), what))

    def run_due(self, now: datetime | None) -> None:
        while self.later and (now is None or self.later[0][0] <= now):
            when, _, what = heapq.heappop(self.later)
            with at(when):
                what()


@pytest.fixture
def seeded() -> Seeded:
    rng = random.Random(2025)
    staff = get_user_model().objects.create_user("finn", password="pw", is_staff=True)
    with at(moment(DAYS[0], 1)):
        for account_id, currency in PLAYERS.items():
            make_player(account_id, currency, "5000")
    wallets = {w.player.account_id: w.pk for w in Wallet.objects.select_related("player")}
    facts = Seeded()
    for hour, (account_id, currency) in enumerate(PLAYERS.items(), start=2):
        with at(moment(DAYS[0], hour * 3600)):  # stuck: never closed
            bet_open(provider="naga", bet_key=f"stuck-{account_id}", tx_id=f"stuck-{hour}",
                     account_id=account_id, amount=D("1.5"), currency=currency)  # fmt: skip
    open_bets: list[tuple[str, str, str, datetime]] = []  # provider, key, player, staked at
    # Events every ~20 minutes, in time order; the last hour of each day opens bets that close
    # (if at all) on a later day.
    clock = moment(DAYS[0], 60)
    end = moment(DAYS[-1], 86_000)
    n = 0
    while clock < end:
        n += 1
        clock += timedelta(seconds=rng.randint(600, 1800), microseconds=rng.randint(0, 999_999))
        facts.run_due(clock)
        player = rng.choice(list(PLAYERS))
        currency = PLAYERS[player]
        provider = rng.choice(PROVIDERS)
        roll = rng.random()
        with at(clock):
            if roll < 0.35:
                key = f"{provider}-{n}"
                bet_open(
                    provider=provider,
                    bet_key=key,
                    tx_id=f"o{n}",
                    account_id=player,
                    amount=money(rng, 5),
                    currency=currency,
                )
                open_bets.append((provider, key, player, clock))
            elif roll < 0.45:
                bet_place_and_settle(
                    provider=provider,
                    bet_key=f"{provider}-{n}",
                    tx_id=f"p{n}",
                    account_id=player,
                    stake=money(rng, 5),
                    win=money(rng, 9),
                    currency=currency,
                )
                if rng.random() < 0.5:  # rolled back later, maybe another day (VP-style)
                    facts.after(
                        clock + timedelta(seconds=rng.randint(90, 130_000)),
                        partial(
                            bet_cancel,
                            provider=provider,
                            bet_keys=[f"{provider}-{n}"],
                            tx_id=f"rb{n}",
                            settled_policy=SettledRoundPolicy.REVERSE,
                        ),
                    )
            elif roll < 0.85 and open_bets:
                provider_, key, owner, staked = open_bets.pop(rng.randrange(len(open_bets)))
                if staked.date() < clock.date():
                    facts.midnight_bets.add(key)
                _close(rng, n, provider_, key, owner, open_bets, staff, facts)
            elif roll < 0.9:
                wallet_deposit(wallet_id=wallets[player], amount=money(rng, 50), reason="top-up")
            elif roll < 0.95:
                wallet_withdraw(wallet_id=wallets[player], amount=money(rng, 3), reason="cash out")
            else:
                staff_adjustment(
                    player, f"{rng.choice('-+')}{money(rng, 2)}", staff=staff, reason="correction"
                )
        # Late in the day: a bet opened now is very likely still open at midnight.
        if clock.time() > time(23) and rng.random() < 0.5:
            with at(clock + timedelta(seconds=1)):
                key = f"{provider}-late-{n}"
                bet_open(
                    provider=provider,
                    bet_key=key,
                    tx_id=f"l{n}",
                    account_id=player,
                    amount=money(rng, 5),
                    currency=currency,
                )
                open_bets.append((provider, key, player, clock))
    facts.run_due(None)
    return facts


def _close(
    rng: random.Random,
    n: int,
    provider: str,
    key: str,
    owner: str,
    open_bets: list[tuple[str, str, str, datetime]],
    staff: Any,
    facts: Seeded,
) -> None:
    """Close an open bet one of the ways the wallet knows."""
    how = rng.random()
    if how < 0.35:
        bet_settle(provider=provider, bet_keys=[key], tx_id=f"s{n}", amount=money(rng, 9))
    elif how < 0.5:
        # Two settles of one round: the first announces more, which come later (another day?).
        bet_settle(
            provider=provider,
            bet_keys=[key],
            tx_id=f"s{n}a",
            amount=money(rng, 4),
            round_closed=False,
        )
        second = partial(
            bet_settle, provider=provider, bet_keys=[key], tx_id=f"s{n}b", amount=money(rng, 4)
        )
        facts.after(timezone.now() + timedelta(seconds=rng.randint(60, 130_000)), second)
        facts.multi_settled.add(key)
    elif how < 0.7:
        bet_cancel(provider=provider, bet_keys=[key], tx_id=f"x{n}")
    elif how < 0.8:
        bet_staff_cancel(
            bet_id=Bet.objects.get(provider=provider, bet_key=key).pk, actor=staff, reason="stuck"
        )
    elif how < 0.9:
        bet_staff_resolve(
            bet_id=Bet.objects.get(provider=provider, bet_key=key).pk,
            actor=staff,
            reason="resolved",
            win_amount=money(rng, 3),
        )
    else:
        # One credit for two bets of the same player and provider: written on the first only.
        partner = next(
            (b for b in open_bets if b[0] == provider and b[2] == owner and b[1] != key), None
        )
        if partner is None:
            bet_settle(provider=provider, bet_keys=[key], tx_id=f"s{n}", amount=money(rng, 9))
            return
        open_bets.remove(partner)
        bet_settle(provider=provider, bet_keys=[key, partner[1]], tx_id=f"s{n}", amount=D("1"))
        facts.settled_without_row.add(partner[1])


# --- the independent computation -----------------------------------------------------------


def utc_day(value: datetime) -> date:
    return value.astimezone(UTC).date()


def expected_summary(selection: ReconciliationFilter) -> list[dict[str, str]]:
    """The summary file's rows, worked out in Python from the ledger and the bets."""
    bets = {b.pk: b for b in Bet.objects.select_related("wallet")}
    entries = list(LedgerEntry.objects.select_related("wallet").order_by("id"))
    start, end = selection.start, selection.end

    def closed_at(bet: Bet | None) -> datetime | None:
        if bet is None:
            return None
        return {BetState.SETTLED: bet.settled_at, BetState.CANCELLED: bet.cancelled_at}.get(
            BetState(bet.state)
        )

    sums: dict[tuple[date, str, str], dict[str, Any]] = {}
    for entry in entries:
        if selection.provider and entry.provider != selection.provider:
            continue
        if selection.currency and entry.wallet.currency != selection.currency:
            continue
        when = entry.created_at
        if selection.basis is DateBasis.SETTLED:
            when = closed_at(bets.get(entry.bet_id))  # type: ignore[arg-type]
            if when is None:
                continue
        if (start and when < start) or (end and when >= end):
            continue
        group = (utc_day(when), entry.provider, entry.wallet.currency)
        row = sums.setdefault(group, defaultdict(lambda: D(0)))
        row["movements"] += 1
        row[entry.kind] += entry.amount
        row["bets"] += entry.kind == LedgerKind.STAKE
    # Open bets at the end of day X: staked by then, no win, refund or reversal by then.
    stakes: dict[int, LedgerEntry] = {}
    first_close: dict[int, datetime] = {}
    for entry in entries:
        if entry.bet_id is None:
            continue
        if entry.kind == LedgerKind.STAKE:
            stakes[entry.bet_id] = entry
        elif entry.kind in CLOSING_KINDS:
            earlier = first_close.get(entry.bet_id)
            first_close[entry.bet_id] = min(entry.created_at, earlier or entry.created_at)

    def open_at(provider: str, currency: str, day: date) -> int:
        day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        count = 0
        for bet_id, stake in stakes.items():
            bet = bets[bet_id]
            if (bet.provider, bet.wallet.currency) != (provider, currency):  # type: ignore[union-attr]
                continue
            closed = first_close.get(bet_id)
            if stake.created_at < day_end and (closed is None or closed >= day_end):
                count += 1
        return count

    def balance_before(currency: str, instant: datetime) -> str:
        """Every wallet of the currency: the sum of its amounts written before ``instant``."""
        total = sum(
            (e.amount for e in entries if e.wallet.currency == currency and e.created_at < instant),
            D(0),
        )
        return f"{total:.6f}"

    def digest(day: date) -> str:
        """SHA-256 of ``<wallet>:<hex link>\n`` per wallet: its last row before the day's end."""
        day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        heads: dict[int, LedgerEntry] = {}
        for e in sorted(entries, key=lambda e: (e.created_at, e.pk)):
            if e.created_at < day_end:
                heads[e.wallet_id] = e
        lines = "".join(f"{w}:{bytes(heads[w].chain_hash).hex()}\n" for w in sorted(heads))
        return hashlib.sha256(lines.encode()).hexdigest()

    def day_start(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=UTC)

    expected = []
    for (day, provider, currency), row in sorted(sums.items()):
        net = -(row["stake"] + row["win"] + row["refund"] + row["reversal"])
        net -= row["staff_adjustment"]
        expected.append(
            {
                "day": day.isoformat(),
                "provider": provider,
                "currency": currency,
                "movements": str(row["movements"]),
                "bets": str(row["bets"]),
                "stakes": f"{-row['stake']:.6f}",
                "wins": f"{row['win']:.6f}",
                "refunds": f"{row['refund']:.6f}",
                "reversals": f"{row['reversal']:.6f}",
                "staff_adjustments": f"{row['staff_adjustment']:.6f}",
                "net": f"{net:.6f}",
                "deposits": f"{row['deposit']:.6f}",
                "withdrawals": f"{-row['withdrawal']:.6f}",
                "open_bets_at_day_end": str(open_at(provider, currency, day) if provider else 0),
                "date_basis": selection.basis.value,
                "opening_balance": balance_before(currency, day_start(day)),
                "closing_balance": balance_before(currency, day_start(day + timedelta(days=1))),
                "chain_digest": digest(day),
            }
        )
    return expected


FILTERS = [
    {},
    {"provider": "naga"},
    {"currency": "CNY"},
    {"date_from": DAYS[1], "date_to": DAYS[1]},
    {"date_from": DAYS[2], "provider": "vp", "currency": "USD"},
    {"date_to": DAYS[1]},
    {"basis": DateBasis.SETTLED},
    {"basis": DateBasis.SETTLED, "date_from": DAYS[2], "date_to": DAYS[2]},
    {"basis": DateBasis.SETTLED, "provider": "buffalo", "currency": "CNY"},
]


def test_the_seeded_ledger_holds_every_awkward_case(seeded: Seeded) -> None:
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert kinds >= {
        "deposit", "withdrawal", "stake", "win", "refund", "reversal", "staff_adjustment",
    }  # fmt: skip
    assert len(seeded.midnight_bets) >= 5
    wins_per_bet = Counter(
        LedgerEntry.objects.filter(kind=LedgerKind.WIN).values_list("bet_id", flat=True)
    )
    assert any(
        wins_per_bet[bet.pk] >= 2 for bet in Bet.objects.filter(bet_key__in=seeded.multi_settled)
    )
    # Settled together with another bet: settled, yet no closing row of its own (still open by
    # the ledger, which is what the summary counts).
    assert (
        Bet.objects.filter(bet_key__in=seeded.settled_without_row, state=BetState.SETTLED)
        .exclude(entries__kind__in=CLOSING_KINDS)
        .exists()
    )
    # Bets whose closing rows fall on different days: their first close is not their last.
    closes: dict[int, set[date]] = defaultdict(set)
    for bet_id, created_at in LedgerEntry.objects.filter(kind__in=CLOSING_KINDS).values_list(
        "bet_id", "created_at"
    ):
        closes[bet_id].add(utc_day(created_at))
    assert sum(len(days) > 1 for days in closes.values()) >= 3
    assert Bet.objects.filter(state=BetState.OPEN).exists()
    assert Bet.objects.filter(stake__gt=0, state=BetState.SETTLED, win=0).exists()


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "-".join(map(str, f.values())) or "all")
def test_summary_equals_the_independent_computation(
    seeded: Seeded, filters: dict[str, Any]
) -> None:
    selection = ReconciliationFilter(**filters)
    got = parse_csv(b"".join(summary_chunks(selection)))
    assert got, "the filter selects nothing: the test would prove nothing"
    assert list(got[0]) == list(SUMMARY_HEADER)
    assert got == expected_summary(selection)


def test_opening_plus_movements_is_closing_every_day(seeded: Seeded) -> None:
    """Per day and currency: the opening balance plus the day's signed movements of every
    provider is the closing balance, and a day's closing balance is the next day's opening."""
    rows = daily_summary(ReconciliationFilter())
    by_day: dict[tuple[date, str], list[Any]] = defaultdict(list)
    for row in rows:
        by_day[row.day, row.currency].append(row)
    assert len({day for day, _ in by_day}) >= len(DAYS)
    for (day, currency), group in by_day.items():
        opening, closing = group[0].opening_balance, group[0].closing_balance
        assert all((r.opening_balance, r.closing_balance) == (opening, closing) for r in group)
        moved = sum((r.deposits - r.withdrawals - r.net for r in group), D(0))
        assert moved != 0
        assert opening + moved == closing
        following = by_day.get((day + timedelta(days=1), currency))
        if following:
            assert following[0].opening_balance == closing
    assert by_day[DAYS[0], "USD"][0].opening_balance == 0
    last_day = max(day for day, currency in by_day if currency == "USD")
    last = by_day[last_day, "USD"][0].closing_balance
    assert last == sum(Wallet.objects.filter(currency="USD").values_list("balance", flat=True))
    totals = {(t.provider, t.currency): t for t in summary_totals(rows)}
    assert totals["naga", "USD"].opening_balance == 0
    assert totals["naga", "USD"].closing_balance == last


def test_open_bets_are_counted_across_midnight(seeded: Seeded) -> None:
    rows = {(r.day, r.provider, r.currency): r for r in daily_summary(ReconciliationFilter())}
    assert any(r.open_bets_at_day_end for r in rows.values())
    totals = summary_totals(list(rows.values()))
    last = max(day for day, _, _ in rows)
    for total in totals:
        if total.provider and (last, total.provider, total.currency) in rows:
            assert (
                total.open_bets_at_day_end
                == rows[last, total.provider, total.currency].open_bets_at_day_end
            )


# --- PostgreSQL: the SQL path, its index, its settings ---------------------------------------


def _first_closes(how: str, selection: ReconciliationFilter) -> dict[tuple, int]:
    until = ReconciliationFilter(date_to=DAYS[-1]).end
    method = getattr(OpenBetCounter, how)
    return {(key, day): count for key, day, count in method(selection, until)}


@postgres_only
@pytest.mark.parametrize("filters", [{}, {"provider": "jdb"}, {"currency": "CNY"}])
def test_sql_first_closes_equal_the_orm_ones(seeded: Seeded, filters: dict[str, str]) -> None:
    selection = ReconciliationFilter(**filters)  # type: ignore[arg-type]
    sql = _first_closes("_first_closes_sql", selection)
    assert sql and sql == _first_closes("_first_closes", selection)


@postgres_only
def test_the_first_close_index_serves_the_query(seeded: Seeded) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ledger_bet_first_close'")
        (definition,) = cursor.fetchone()
    # The index's kinds are the summary's closing kinds, no more and no fewer.
    listed = definition.split("ARRAY[")[1].split("]")[0]
    assert sorted(part.split("'")[1] for part in listed.split(",")) == sorted(CLOSING_KINDS)
    # The query can read the index (its WHERE implies the index's): with sequential scans
    # priced out, its plan does. On a big, vacuumed ledger it is an index-only scan merged with
    # the bets' primary key (bench_export); a few rows here are read however is cheapest.
    sql = _FIRST_CLOSES_SQL.format(
        ledger=LedgerEntry._meta.db_table,
        bet=Bet._meta.db_table,
        wallet=Wallet._meta.db_table,
        provider="",
        currency="",
    )
    with planner_settings(FIRST_CLOSE_SETTINGS), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN " + sql,
            {"closing": list(CLOSING_KINDS), "until": ReconciliationFilter(date_to=DAYS[-1]).end},
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "on ledger_bet_first_close" in plan, plan


@postgres_only
def test_planner_settings_are_put_back_inside_an_outer_transaction(db: None) -> None:
    def current() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('jit'), current_setting('enable_hashjoin')")
            return cursor.fetchone()  # type: ignore[return-value]

    with transaction.atomic():
        before = current()
        with planner_settings((("jit", "off"), ("enable_hashjoin", "off"))):
            assert current() == ("off", "off")
        assert current() == before
        daily_summary(ReconciliationFilter())
        assert current() == before
