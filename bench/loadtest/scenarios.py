"""What each scenario seeds, which requests it sends, and what the database must show after.

- ``cancel-storm``: every seeded bet cancelled once, a share of them (default 10 %) twice.
  JDB, Naga and Buffalo cancel open debits (a refund each); VP has only bet-and-settle rounds,
  so its rollbacks hit settled rounds and answer "established" (2003) under the default policy.
- ``retry-storm``: the same, every cancel sent twice, shuffled so that twins race each other,
  from many connections; "try again" answers are resent until drained.
- ``bet-settle``: each bet taken and then settled (JDB 9 + 10, Naga place-bet + payout,
  Buffalo debit + credit; VP's betNSettle does both in one call).
- ``mixed``: balance reads, bet-and-settle flows and cancels in equal shares, shuffled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from bench.loadtest.requests import Flow, RequestFactory
from bench.loadtest.seed import Players, SeededBets, seed_bets, stake_of, win_of
from monitoring.progress import Stream, progress

SCENARIOS = ("cancel-storm", "retry-storm", "bet-settle", "mixed")
PROVIDERS = ("jdb", "vp", "naga", "buffalo")
#: Providers with open debits to cancel (VP's bets settle in the same call).
DEBIT_PROVIDERS = ("jdb", "naga", "buffalo")


@dataclass
class Plan:
    flows: list[Flow]
    cancelled: list[SeededBets] = field(default_factory=list)
    settled_flows: dict[str, tuple[str, int]] = field(default_factory=dict)  # provider: keys


def split(total: int, providers: tuple[str, ...]) -> dict[str, int]:
    """``total`` spread over ``providers`` as evenly as whole numbers allow."""
    base, extra = divmod(total, len(providers))
    return {p: base + (1 if i < extra else 0) for i, p in enumerate(providers)}


def seed_for_cancels(
    players: Players, counts: dict[str, int], label: str, *, stream: Stream | None = None
) -> list[SeededBets]:
    """Open debits for JDB, Naga and Buffalo; settled bet-and-settle rounds for VP."""
    wanted = {p: n for p, n in counts.items() if n}
    return [
        seed_bets(players, p, f"{players.tag}{label}{p[0]}", n, settled=p == "vp")
        for p, n in progress(wanted.items(), desc="seeding bets", unit="provider", stream=stream)
    ]


def cancel_flows(
    factory: RequestFactory,
    seeded: list[SeededBets],
    *,
    repeat_every: int | None,
    twice: bool,
    stream: Stream | None = None,
) -> list[Flow]:
    """One cancel per bet; a second copy for every ``repeat_every``-th bet, or for all.

    ``twice`` (the retry storm) sends the very same bytes again, as a provider resends a
    request that timed out; VP's copy is signed anew (fresh nonce), as VP would.
    """
    flows: list[Flow] = []
    for bets in seeded:
        numbers = range(1, bets.count + 1)
        desc = f"building {bets.provider} cancels"
        for n in progress(numbers, desc=desc, unit="bet", stream=stream):
            slot = bets.players.slot_of(n)
            first = factory.cancel(bets.provider, bets.key(n), n, slot)
            flows.append([first])
            if twice:
                copy = (
                    factory.cancel(bets.provider, bets.key(n), n, slot, repeat=True)
                    if bets.provider == "vp"
                    else first
                )
                flows.append([copy])
            elif repeat_every and n % repeat_every == 0:
                flows.append([factory.cancel(bets.provider, bets.key(n), n, slot, repeat=True)])
    return flows


def bet_settle_flows(
    factory: RequestFactory,
    players: Players,
    counts: dict[str, int],
    label: str,
    *,
    stream: Stream | None = None,
) -> tuple[list[Flow], dict[str, tuple[str, int]]]:
    flows: list[Flow] = []
    made: dict[str, tuple[str, int]] = {}
    for provider, count in counts.items():
        prefix = f"{players.tag}{label}{provider[0]}"
        made[provider] = (prefix, count)
        desc = f"building {provider} bets"
        for n in progress(range(1, count + 1), desc=desc, unit="bet", stream=stream):
            flows.append(factory.bet_and_settle(provider, f"{prefix}{n}", n, players.slot_of(n)))
    return flows, made


def balance_flows(factory: RequestFactory, players: Players, counts: dict[str, int]) -> list[Flow]:
    return [
        [factory.balance(provider, players.slot_of(n))]
        for provider, count in counts.items()
        for n in range(1, count + 1)
    ]


def plan(
    scenario: str,
    factory: RequestFactory,
    players: Players,
    providers: tuple[str, ...],
    bets: int,
    *,
    repeat: float,
    rng: random.Random,
    stream: Stream | None = None,
) -> Plan:
    """Seed what ``scenario`` needs and build its requests (before any clock starts).

    ``stream`` is where the seeding and building progress goes (``monitoring.progress``).
    """
    if scenario in ("cancel-storm", "retry-storm"):
        seeded = seed_for_cancels(players, split(bets, providers), "c", stream=stream)
        every = round(1 / repeat) if repeat > 0 else None
        twice = scenario == "retry-storm"
        flows = cancel_flows(factory, seeded, repeat_every=every, twice=twice, stream=stream)
        result = Plan(flows, cancelled=seeded)
    elif scenario == "bet-settle":
        counts = split(bets, providers)
        flows, made = bet_settle_flows(factory, players, counts, "s", stream=stream)
        result = Plan(flows, settled_flows=made)
    elif scenario == "mixed":
        thirds = split(bets, ("cancel", "flow", "balance"))
        seeded = seed_for_cancels(players, split(thirds["cancel"], providers), "c", stream=stream)
        cancels = cancel_flows(factory, seeded, repeat_every=None, twice=False, stream=stream)
        counts = split(thirds["flow"], providers)
        settles, made = bet_settle_flows(factory, players, counts, "s", stream=stream)
        balances = balance_flows(factory, players, split(thirds["balance"], providers))
        result = Plan(cancels + settles + balances, cancelled=seeded, settled_flows=made)
    else:
        raise ValueError(f"unknown scenario {scenario!r}")
    rng.shuffle(result.flows)
    return result


# --- what the database must show afterwards ------------------------------------------------


@dataclass(frozen=True)
class CancelCheck:
    provider: str
    settled_rounds: bool  # VP's bet-and-settle rounds rather than open debits
    bets: int
    cancelled: int
    decided: int  # bets with a stored cancel decision
    refunds: int
    refunded: Decimal
    expected_refunded: Decimal

    @property
    def ok(self) -> bool:
        if self.settled_rounds and self.refunds == 0:
            # Rounds kept (the default policy): each decided once, no money back.
            return self.decided == self.bets and self.cancelled == 0
        return (
            self.cancelled == self.bets
            and self.decided == self.bets
            and self.refunds == self.bets
            and self.refunded == self.expected_refunded
        )

    def text(self) -> str:
        verdict = "ok" if self.ok else "WRONG"
        return (
            f"{self.provider}: {self.bets} bets, {self.cancelled} cancelled, "
            f"{self.refunds} refund rows totalling {self.refunded} "
            f"(expected {self.expected_refunded}, or none where rounds are kept): {verdict}"
        )


def check_cancels(seeded: SeededBets) -> CancelCheck:
    """Each bet refunded exactly once (VP: each round decided once), nothing more."""
    pattern = f"{seeded.prefix}%"
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE state = 'cancelled'),
                   count(*) FILTER (WHERE cancel_outcome <> '')
            FROM wallet_bet WHERE provider = %s AND bet_key LIKE %s
            """,
            [seeded.provider, pattern],
        )
        bets, cancelled, decided = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*), coalesce(sum(l.amount), 0)
            FROM wallet_ledgerentry l JOIN wallet_bet b ON b.id = l.bet_id
            WHERE b.provider = %s AND b.bet_key LIKE %s AND l.kind IN ('refund', 'reversal')
            """,
            [seeded.provider, pattern],
        )
        refunds, refunded = cursor.fetchone()
    # A refund returns the stake; a reversed round returns the stake and takes the win back.
    expected = sum(
        (stake_of(n) - (win_of(n) if seeded.settled else 0) for n in range(1, seeded.count + 1)),
        Decimal(0),
    )
    return CancelCheck(
        seeded.provider, seeded.settled, bets, cancelled, decided, refunds, refunded, expected
    )


def count_states(provider: str, prefix: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, count(*) FROM wallet_bet WHERE provider = %s AND bet_key LIKE %s "
            "GROUP BY state",
            [provider, f"{prefix}%"],
        )
        return dict(cursor.fetchall())


def journal_rows_after(last_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM providers_journalentry WHERE id > %s", [last_id])
        return int(cursor.fetchone()[0])


def journal_last_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM providers_journalentry")
        return int(cursor.fetchone()[0])
