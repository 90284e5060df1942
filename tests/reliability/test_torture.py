"""Concurrency torture on PostgreSQL: client processes racing on one real app server.

Every round fires, at the same instant from different processes, requests that fight over one
bet (or one wallet): a bet against its own cancel, a cancel against the settle, two different
settles, duplicate settles, support's "cancel and refund" against the provider's settle, and
many bets on a wallet too small for all of them. Each request is resent until it gets a final
answer, as providers do. Then, for every race: exactly one side decided, every answer agrees
with what the database holds (a provider told "cancelled" finds the money back, one told "paid"
finds it paid), no money was created or lost (``check_ledger``, and balances equal their
deposits plus their bets), no answer fell outside the provider's documented codes, and no lock
conflict surfaced as an error.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.db import connection

from journal.models import JournalEntry
from tests.app_server import AppServer
from tests.helpers import requires_postgres
from tests.reliability.budget import sized
from tests.reliability.conftest import gambler, public_pem
from tests.reliability.flows import (
    BET_AND_SETTLE_FLOWS,
    CODES,
    FLOW_PROVIDER,
    Flows,
    Gambler,
    Situation,
    expected_code,
)
from tests.reliability.infra import server_env
from tests.reliability.storm import Job, Result, Wire, prepare, run_storm, send_until_final
from wallet.consistency import check_ledger
from wallet.models import Bet, LedgerEntry, Wallet
from wallet.services import StaffActionRefused, bet_staff_cancel

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.slow,
    requires_postgres,
]

D = Decimal
S = Situation
FLOWS = ("jdb8", "jdb9", "vp", "naga", "buffalo")
DEBIT_FLOWS = ("jdb9", "naga", "buffalo")
PROCESSES = 8
WORKERS = 4
STAKE = D("10")
WIN = D("4")


@dataclass
class Race:
    number: int
    kind: str
    flow: str
    keys: list[str]
    owner: Gambler


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def server(transactional_db: Any, naga_key: Any, tmp_path: Path) -> Iterator[AppServer]:
    env = server_env(database_url(), public_pem(naga_key))
    app_server = AppServer(env, tmp_path / "server.log", workers=WORKERS).start()
    try:
        yield app_server
    finally:
        app_server.stop()


def codes(flow: str, kind: str, *situations: Situation) -> set[str]:
    """Every code a request may get in these situations, as the first or as a repeat."""
    return {
        expected_code(flow, kind, situation, repeat=repeat)
        for situation in situations
        for repeat in (False, True)
        if situation in _table(flow, kind)
    }


def _table(flow: str, kind: str) -> dict[Situation, str]:
    return CODES[flow][kind]


def first_code(flow: str, kind: str, situation: Situation) -> str:
    return expected_code(flow, kind, situation)


class Plan:
    """Builds the races, the requests that open bets beforehand, and the rounds."""

    def __init__(self, players: dict[str, Gambler], small: list[Gambler], rng: random.Random):
        self.players = players
        self.small = small
        self.rng = rng
        self.flows = Flows()
        self.races: list[Race] = []
        self.setup: list[Wire] = []
        self.rounds: list[list[Job]] = []
        self.ids = itertools.count(1)

    def key(self, flow: str) -> str:
        number = next(self.ids)
        return str(700_000 + number) if flow.startswith("jdb") else f"t-{flow}-{number}"

    def tx(self, flow: str) -> str:
        number = next(self.ids)
        return str(900_000 + number) if flow.startswith("jdb") else f"tx-{number}"

    def owner(self, flow: str) -> Gambler:
        return self.players["chen" if flow == "jdb8" and self.rng.random() < 0.5 else "alice"]

    def race(self, kind: str, flow: str, keys: list[str], owner: Gambler) -> Race:
        race = Race(len(self.races), kind, flow, keys, owner)
        self.races.append(race)
        return race

    def jobs(self, race: Race, *groups: tuple[str, Any, int]) -> list[Job]:
        jobs = [Job(race.number, role, prepare(call)) for role, call, n in groups for _ in range(n)]
        self.rng.shuffle(jobs)
        return jobs

    # --- the races ------------------------------------------------------------------------

    def bet_vs_cancel(self, flow: str) -> list[Job]:
        owner = self.owner(flow)
        key = self.key(flow)
        race = self.race("bet_vs_cancel", flow, [key], owner)
        bet = self.flows.open(flow, owner, key, STAKE, WIN)
        cancel = self.flows.cancel(flow, owner, key, self.tx(flow), STAKE)
        return self.jobs(race, ("bet", bet, 3), ("cancel", cancel, 3))

    def _opened(self, kind: str, flow: str) -> tuple[Race, str]:
        owner = self.owner(flow)
        key = self.key(flow)
        self.setup.append(prepare(self.flows.open(flow, owner, key, STAKE, WIN)))
        return self.race(kind, flow, [key], owner), key

    def cancel_vs_settle(self, flow: str) -> list[Job]:
        race, key = self._opened("cancel_vs_settle", flow)
        settle = self.flows.settle(flow, race.owner, key, self.tx(flow), WIN)
        cancel = self.flows.cancel(flow, race.owner, key, self.tx(flow), STAKE)
        return self.jobs(race, ("settle", settle, 3), ("cancel", cancel, 3))

    def settle_vs_settle(self, flow: str) -> list[Job]:
        race, key = self._opened("settle_vs_settle", flow)
        first = self.flows.settle(flow, race.owner, key, self.tx(flow), WIN)
        second = self.flows.settle(flow, race.owner, key, self.tx(flow), WIN + 1)
        return self.jobs(race, ("settle", first, 3), ("settle", second, 3))

    def staff_vs_settle(self, flow: str) -> list[Job]:
        race, key = self._opened("staff_vs_settle", flow)
        settle = self.flows.settle(flow, race.owner, key, self.tx(flow), WIN)
        jobs = self.jobs(race, ("settle", settle, 4))
        jobs += [Job(race.number, "staff_cancel", None) for _ in range(2)]
        self.rng.shuffle(jobs)
        return jobs

    def wallet_squeeze(self, player: Gambler) -> list[Job]:
        """Eight bets of 10 on a wallet of 40, from every flow at once: four at most fit."""
        keys, jobs = [], []
        race = self.race("wallet", "", keys, player)
        for flow in (*FLOWS, "jdb9", "naga", "buffalo"):
            key = self.key(flow)
            keys.append(f"{flow}:{key}")
            call = self.flows.open(flow, player, key, STAKE, D(0))
            jobs.append(Job(race.number, f"bet:{flow}:{key}", prepare(call)))
        return jobs

    def build(self, per_kind: int) -> None:
        races: list[list[Job]] = []
        for _ in range(per_kind):
            races += [self.bet_vs_cancel(flow) for flow in FLOWS]
            races += [self.cancel_vs_settle(flow) for flow in DEBIT_FLOWS]
            races += [self.settle_vs_settle(flow) for flow in DEBIT_FLOWS]
            races += [self.staff_vs_settle(flow) for flow in DEBIT_FLOWS]
        races += [self.wallet_squeeze(player) for player in self.small]
        self.rng.shuffle(races)
        # Two races per round: the processes outnumber one race's requests, and two races on
        # one player's wallet at once add contention on the wallet row too.
        self.rounds = [
            a + b for a, b in itertools.zip_longest(races[::2], races[1::2], fillvalue=[])
        ]


# --- the checks --------------------------------------------------------------------------------


def by_role(results: list[Result]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for result in results:
        grouped[result.role].append(result.code)
    return grouped


def stored(race: Race, key: str | None = None, flow: str | None = None) -> Bet:
    flow = flow or race.flow
    return Bet.objects.get(provider=FLOW_PROVIDER[flow], bet_key=key or race.keys[0])


def rows(bet: Bet, kind: str) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(bet=bet, kind=kind))


def exactly_one_first(flow: str, kind: str, situation: Situation, answers: list[str]) -> None:
    """Buffalo tells the first decision (OK) from its repeats: exactly one request decided."""
    if flow == "buffalo":
        assert answers.count(first_code(flow, kind, situation)) == 1, answers


def check_bet_vs_cancel(race: Race, answers: dict[str, list[str]]) -> str:
    bet, flow = stored(race), race.flow
    if flow in BET_AND_SETTLE_FLOWS and bet.state == "settled":  # the bet won: the round stands
        assert set(answers["bet"]) <= codes(flow, "open", S.APPLIED), answers
        assert set(answers["cancel"]) == {first_code(flow, "cancel", S.ROUND_STANDS)}, answers
    elif bet.state == "cancelled":  # the bet won, then the cancel refunded it
        assert flow not in BET_AND_SETTLE_FLOWS
        assert set(answers["bet"]) <= codes(flow, "open", S.APPLIED, S.AFTER_CANCEL), answers
        assert set(answers["cancel"]) <= codes(flow, "cancel", S.CANCELLED_OPEN), answers
        exactly_one_first(flow, "cancel", S.CANCELLED_OPEN, answers["cancel"])
        assert len(rows(bet, "stake")) == 1 and len(rows(bet, "refund")) == 1
    else:  # the cancel won: a tombstone refused the bet
        assert bet.state == "tombstone", bet.state
        assert set(answers["bet"]) == {first_code(flow, "open", S.AFTER_CANCEL)}, answers
        assert set(answers["cancel"]) <= codes(flow, "cancel", S.UNKNOWN), answers
        assert not LedgerEntry.objects.filter(bet=bet).exists()
    return bet.state


def check_cancel_vs_settle(race: Race, answers: dict[str, list[str]]) -> str:
    bet, flow = stored(race), race.flow
    if bet.state == "settled":
        assert set(answers["settle"]) <= codes(flow, "settle", S.APPLIED, S.REPEAT), answers
        exactly_one_first(flow, "settle", S.APPLIED, answers["settle"])
        assert set(answers["cancel"]) == {first_code(flow, "cancel", S.AFTER_PAYOUT)}, answers
        assert len(rows(bet, "win")) == 1 and not rows(bet, "refund")
    else:
        assert bet.state == "cancelled", bet.state
        assert set(answers["settle"]) == {first_code(flow, "settle", S.AFTER_CANCEL)}, answers
        assert set(answers["cancel"]) <= codes(flow, "cancel", S.CANCELLED_OPEN), answers
        exactly_one_first(flow, "cancel", S.CANCELLED_OPEN, answers["cancel"])
        assert len(rows(bet, "refund")) == 1 and not rows(bet, "win")
    return bet.state


def check_staff_vs_settle(race: Race, answers: dict[str, list[str]]) -> str:
    bet, flow = stored(race), race.flow
    if bet.state == "cancelled":
        assert sorted(answers["staff_cancel"]) == ["ok", "refused"], answers
        assert set(answers["settle"]) == {first_code(flow, "settle", S.AFTER_CANCEL)}, answers
        assert len(rows(bet, "refund")) == 1 and not rows(bet, "win")
    else:
        assert bet.state == "settled", bet.state
        assert answers["staff_cancel"] == ["refused", "refused"], answers
        assert set(answers["settle"]) <= codes(flow, "settle", S.APPLIED, S.REPEAT), answers
        exactly_one_first(flow, "settle", S.APPLIED, answers["settle"])
        assert len(rows(bet, "win")) == 1
    return bet.state


def check_wallet(race: Race, results: list[Result]) -> str:
    taken = 0
    for result in results:
        _, flow, key = result.role.split(":")
        bet = stored(race, key, flow)
        if result.code == first_code(flow, "open", S.APPLIED):
            assert bet.state in ("open", "settled"), (flow, bet.state)
            taken += 1
        else:
            assert result.code == first_code(flow, "open", S.INSUFFICIENT), result
            assert bet.state == "refused"
    assert taken == 4, taken  # 40 holds exactly four stakes of 10
    assert Wallet.objects.get(player__account_id=race.owner.account_id).balance == 0
    return f"{taken} of {len(results)} taken"


# --- the test ------------------------------------------------------------------------------------


def test_racing_processes_never_create_or_lose_money(server: AppServer) -> None:
    players = {
        "alice": gambler("alice", "USD", "100000"),
        "chen": gambler("chen", "CNY", "100000"),
    }
    small = [gambler(f"dana{i}", "MYR", "40") for i in range(sized(2, 2))]
    staff = User.objects.create_user("rel_torture_staff", is_staff=True)
    plan = Plan(players, small, random.Random(11))
    plan.build(per_kind=sized(2, 10))

    session = requests.Session()
    for wire in plan.setup:  # the bets the later races fight over
        opened = Result(-1, "setup", wire.provider)
        send_until_final(session, server.url, wire, opened, deadline=time.monotonic() + 60)
        assert opened.code in ("0000", "200", "OK"), opened

    def staff_cancel(job: Job) -> str:
        race = plan.races[job.race]
        bet = Bet.objects.get(provider=FLOW_PROVIDER[race.flow], bet_key=race.keys[0])
        try:
            bet_staff_cancel(bet_id=bet.pk, actor=User.objects.get(pk=staff.pk), reason="torture")
        except StaffActionRefused:
            return "refused"
        return "ok"

    results = run_storm(plan.rounds, server.url, processes=PROCESSES, staff_action=staff_cancel)
    server.stop()

    assert [r.error for r in results if r.error] == []
    assert [u for r in results for u in r.undocumented] == []
    requests_sent = sum(r.attempts for r in results if r.provider != "staff")
    retried = Counter(code for r in results for code in r.transient)

    grouped: dict[int, list[Result]] = defaultdict(list)
    for result in results:
        grouped[result.race].append(result)
    outcomes: Counter[str] = Counter()
    for race in plan.races:
        race_results = grouped[race.number]
        answers = by_role(race_results)
        if race.kind == "bet_vs_cancel":
            state = check_bet_vs_cancel(race, answers)
        elif race.kind == "cancel_vs_settle":
            state = check_cancel_vs_settle(race, answers)
        elif race.kind == "settle_vs_settle":
            state = check_settle_vs_settle(race, race_results)
        elif race.kind == "staff_vs_settle":
            state = check_staff_vs_settle(race, answers)
        else:
            state = check_wallet(race, race_results)
        outcomes[f"{race.kind} {race.flow} -> {state}"] += 1

    report = check_ledger()
    assert report.ok, [str(p) for p in report.problems]
    assert not LedgerEntry.objects.filter(bet__isnull=True).exclude(kind="deposit").exists()
    journal = list(JournalEntry.objects.values_list("outcome", "error", "answer"))
    assert not [j for j in journal if j[0] == "error"], [j for j in journal if j[0] == "error"][:3]
    assert not [j for j in journal if "deadlock" in f"{j[1]} {j[2]}".lower()]
    assert "Traceback" not in server.log_tail(10_000), server.log_tail()
    print(
        f"torture: {len(plan.races)} races, {requests_sent} requests "
        f"({sum(retried.values())} retried: {dict(retried)}), "
        f"outcomes {dict(sorted(outcomes.items()))}"
    )


def check_settle_vs_settle(race: Race, results: list[Result]) -> str:
    """Two different settles raced: exactly one was paid; the other was refused as a second
    settle; duplicates of the paid one were answered as repeats."""
    bet, flow = stored(race), race.flow
    assert bet.state == "settled"
    wins = rows(bet, "win")
    assert len(wins) == 1, wins
    paid_amount = wins[0].amount
    answers = [r.code for r in results]
    won = codes(flow, "settle", S.APPLIED, S.REPEAT)
    lost = first_code(flow, "settle", S.SECOND_SETTLE)
    assert set(answers) <= won | {lost}, answers
    if flow == "buffalo":  # Buffalo's repeat and refusal share a code: count the decisions
        assert answers.count("OK") == 1, answers
    else:
        assert answers.count(lost) == 3 and len(answers) == 6, answers
    assert paid_amount in (WIN, WIN + 1)
    return f"paid {paid_amount}"
