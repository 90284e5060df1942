"""The failover drill: the load harness's retry storm through HAProxy against both app servers,
one app server killed (SIGKILL) a third of the way in and brought back by its "supervisor", the
primary stopped hard two thirds of the way in and the standby promoted, PgBouncer repointed
(docs/operations.md, "Failover runbook"). Requests that got no answer or a "try again" are
resent until each has its final answer, as providers do.

Then, on the promoted database itself (past PgBouncer): every movement a provider was told
about is there, no bet is refunded twice, every bet of the storm is refunded once, and
``check_ledger`` and ``verify_ledger`` (the hash chains) are clean. The figures: requests,
answers, errors by kind, and how long the service took to answer again after each blow.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.cluster.cluster import Cluster, Failover
from bench.loadtest import scenarios
from bench.loadtest.driver import Driver, RunResult
from bench.loadtest.requests import Prepared, RequestFactory
from bench.loadtest.seed import seed_players

Say = Callable[[str], None]
#: Share of the storm's bets acknowledged before each blow.
KILL_AT, FAIL_OVER_AT = 1 / 3, 2 / 3
#: How long the killed app server stays down before its supervisor starts it again.
SUPERVISOR_DELAY_S = 5.0


@dataclass(frozen=True)
class DrillOptions:
    bets: int = 6000
    players: int = 1000
    concurrency: int = 32
    time_limit_s: float = 420.0
    seed: int = 29


class AnswerLog:
    """Every outcome the harness saw, and when each bet's cancel was first acknowledged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.acknowledged: dict[str, float] = {}  # bet key: first success (time.time())
        self.answered_at: list[float] = []  # every final or "try again" answer from the app

    def __call__(self, request: Prepared, outcome: str) -> None:
        now = time.time()
        with self.lock:
            if outcome.startswith("no answer"):
                self.outcomes[outcome] += 1
                return
            self.answered_at.append(now)
            if outcome in request.accept:
                self.outcomes[f"{request.provider} {outcome} (final)"] += 1
                self.acknowledged.setdefault(request.key, now)
            elif outcome in request.retry:
                self.outcomes[f"{request.provider} {outcome} (try again)"] += 1
            else:
                self.outcomes[f"{request.provider} {outcome} (unexpected)"] += 1

    def acknowledged_count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def first_final_after(self, moment: float) -> float | None:
        with self.lock:
            later = [t for t in self.acknowledged.values() if t > moment]
        return min(later) if later else None


@dataclass
class Blows:
    """What the havoc thread did, and when."""

    killed_at: float | None = None
    restarted_at: float | None = None
    failover: Failover | None = None
    acknowledged_before_failover: set[str] = field(default_factory=set)
    failed: list[str] = field(default_factory=list)


def havoc(
    cluster: Cluster, answers: AnswerLog, bets: int, stop: threading.Event, blows: Blows, say: Say
) -> None:
    """Kill app server 1 at a third of the bets acknowledged (its supervisor starts it 5 s
    later, on its own clock); fail the database over at two thirds."""
    supervisor: threading.Thread | None = None
    try:
        if not _wait_for(answers, bets * KILL_AT, stop):
            return
        cluster.kill_app(1)
        blows.killed_at = time.time()
        say(f"  SIGKILL app server 1 ({answers.acknowledged_count()} bets acknowledged)")
        supervisor = threading.Thread(target=_supervise, args=(cluster, stop, blows, say))
        supervisor.start()
        if not _wait_for(answers, bets * FAIL_OVER_AT, stop):
            return
        with answers.lock:
            blows.acknowledged_before_failover = set(answers.acknowledged)
        say(f"  primary stops hard ({len(blows.acknowledged_before_failover)} bets acknowledged)")
        blows.failover = cluster.fail_over(lambda line: say(f"    {line}"))
    except Exception as exc:  # reported with the figures, never hidden
        blows.failed.append(f"{type(exc).__name__}: {exc}")
    finally:
        if supervisor is not None:
            supervisor.join()


def _supervise(cluster: Cluster, stop: threading.Event, blows: Blows, say: Say) -> None:
    """What systemd's Restart= does for the killed server."""
    try:
        if stop.wait(SUPERVISOR_DELAY_S):
            return
        cluster.restart_app(1)
        blows.restarted_at = time.time()
        say("  app server 1 started again by its supervisor")
    except Exception as exc:
        blows.failed.append(f"restart: {type(exc).__name__}: {exc}")


def _wait_for(answers: AnswerLog, count: float, stop: threading.Event) -> bool:
    while answers.acknowledged_count() < count:
        if stop.wait(0.05):
            return False
    return True


def run_drill(cluster: Cluster, options: DrillOptions, say: Say) -> dict[str, Any]:
    host, port = "127.0.0.1", cluster.balancer.port
    tag = "dr" + secrets.token_hex(4)
    started = time.perf_counter()
    players = seed_players(tag, options.players)
    factory = RequestFactory(players, f"{host}:{port}")
    plan = scenarios.plan(
        "retry-storm",
        factory,
        players,
        scenarios.DEBIT_PROVIDERS,
        options.bets,
        repeat=0.0,
        rng=random.Random(options.seed),
    )
    say(
        f"run {tag}: {options.bets} open bets, {sum(len(f) for f in plan.flows)} cancels "
        f"(each sent twice, shuffled) through HAProxy {cluster.balancer.url} to "
        f"{len(cluster.apps)} app servers; seeded in {time.perf_counter() - started:.1f} s"
    )

    answers, blows, stop = AnswerLog(), Blows(), threading.Event()
    driver = Driver(
        host,
        port,
        options.concurrency,
        max_rounds=100_000,
        max_s=options.time_limit_s,
        on_answer=answers,
    )
    thread = threading.Thread(
        target=havoc, args=(cluster, answers, options.bets, stop, blows, say), daemon=True
    )
    thread.start()
    try:
        result = driver.run(plan.flows)
    finally:
        stop.set()
        thread.join(timeout=120)
    report = _figures(result, answers, blows)
    report["checks"] = verify(cluster, tag, blows, answers)
    report["ok"] = _ok(report, result, blows)
    for line in _lines(report):
        say(line)
    return report


def verify(cluster: Cluster, tag: str, blows: Blows, answers: AnswerLog) -> dict[str, Any]:
    """On the promoted server itself, not through PgBouncer."""
    promoted = cluster.current_primary
    with psycopg.connect(cluster.direct_url(promoted), autocommit=True) as conn:
        in_recovery = _one(conn, "SELECT pg_is_in_recovery()")
        rows = conn.execute(
            """
            SELECT b.bet_key, b.state,
                   count(l.id) FILTER (WHERE l.kind IN ('refund', 'reversal')) AS refunds
            FROM wallet_bet b LEFT JOIN wallet_ledgerentry l ON l.bet_id = b.id
            WHERE b.bet_key LIKE %s GROUP BY b.bet_key, b.state
            """,
            [f"{tag}%"],
        ).fetchall()
        double_refunds_anywhere = _one(
            conn,
            "SELECT count(*) FROM (SELECT bet_id FROM wallet_ledgerentry "
            "WHERE kind IN ('refund', 'reversal') GROUP BY bet_id HAVING count(*) > 1) AS twice",
        )
    refunds = {key: (state, count) for key, state, count in rows}
    acknowledged = set(answers.acknowledged)
    lost = sorted(k for k in acknowledged if refunds.get(k, ("", 0))[1] == 0)
    lost_before = sorted(k for k in blows.acknowledged_before_failover if k in lost)
    ledger = cluster.manage("check_ledger", database_url=cluster.direct_url(promoted))
    chains = cluster.manage("verify_ledger", database_url=cluster.direct_url(promoted))
    return {
        "promoted_server": f"127.0.0.1:{promoted.port}",
        "promoted_in_recovery": in_recovery,
        "bets": len(refunds),
        "acknowledged_bets": len(acknowledged),
        "acknowledged_before_failover": len(blows.acknowledged_before_failover),
        "lost": len(lost),
        "lost_of_those_before_failover": len(lost_before),
        "lost_examples": lost[:10],
        "refunded_once": sum(1 for state, count in refunds.values() if count == 1),
        "refunded_twice_or_more": sum(1 for _, count in refunds.values() if count > 1),
        "double_refunds_in_database": double_refunds_anywhere,
        "left_open": sum(1 for state, _ in refunds.values() if state == "open"),
        "check_ledger_exit": ledger.returncode,
        "check_ledger": (ledger.stdout + ledger.stderr).strip().splitlines()[-3:],
        "verify_ledger_exit": chains.returncode,
        "verify_ledger": (chains.stdout + chains.stderr).strip().splitlines()[-3:],
    }


def _one(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query.encode()).fetchone()
    return row[0] if row else None


def _figures(result: RunResult, answers: AnswerLog, blows: Blows) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "requests": result.requests,
        "answers": sum(n for k, n in answers.outcomes.items() if not k.startswith("no answer")),
        "outcomes": dict(sorted(answers.outcomes.items())),
        "rounds": result.rounds,
        "undrained": result.undrained,
        "elapsed_s": round(result.elapsed_s, 1),
        "rate": round(result.requests / result.elapsed_s, 1) if result.elapsed_s else 0.0,
        "havoc_failed": blows.failed,
    }
    if blows.killed_at is not None:
        after = answers.first_final_after(blows.killed_at)
        figures["app_kill_recovery_s"] = round(after - blows.killed_at, 2) if after else None
    if blows.failover is not None:
        failover = blows.failover
        after = answers.first_final_after(failover.pooler_repointed)
        figures["failover"] = {
            "standby_state": failover.standby_state,
            "promote_s": round(failover.standby_promoted - failover.primary_stopped, 2),
            "repointed_s": round(failover.pooler_repointed - failover.primary_stopped, 2),
            "first_acknowledged_after_stop_s": (
                round(after - failover.primary_stopped, 2) if after else None
            ),
        }
    return figures


def _ok(report: dict[str, Any], result: RunResult, blows: Blows) -> bool:
    checks = report["checks"]
    unexpected = [k for k in report["outcomes"] if k.endswith("(unexpected)")]
    failover = report.get("failover", {})
    return (
        not blows.failed
        and blows.killed_at is not None
        and blows.restarted_at is not None
        # the storm went on past the failover: the promoted server answered
        and failover.get("first_acknowledged_after_stop_s") is not None
        and result.undrained == 0
        and not unexpected
        and checks["promoted_in_recovery"] is False
        and checks["lost"] == 0
        and checks["refunded_twice_or_more"] == 0
        and checks["double_refunds_in_database"] == 0
        and checks["left_open"] == 0
        and checks["refunded_once"] == checks["bets"]
        and checks["check_ledger_exit"] == 0
        and checks["verify_ledger_exit"] == 0
    )


def _lines(report: dict[str, Any]) -> list[str]:
    checks = report["checks"]
    lines = [
        f"requests: {report['requests']} sent in {report['elapsed_s']} s "
        f"({report['rate']}/s, {report['rounds']} rounds), {report['answers']} answered by "
        f"an app server, undrained {report['undrained']}",
        "outcomes: " + ", ".join(f"{k} x{n}" for k, n in report["outcomes"].items()),
    ]
    if "app_kill_recovery_s" in report:
        lines.append(
            f"app server killed: next acknowledged movement {report['app_kill_recovery_s']} s later"
        )
    if "failover" in report:
        f = report["failover"]
        lines.append(
            f"failover: the standby was {f['standby_state']}; promoted {f['promote_s']} s after "
            f"the primary stopped, PgBouncer "
            f"repointed at {f['repointed_s']} s, first acknowledged movement at "
            f"{f['first_acknowledged_after_stop_s']} s (recovery time)"
        )
    lines += [
        f"on the promoted server {checks['promoted_server']} (in recovery: "
        f"{checks['promoted_in_recovery']}): {checks['bets']} bets, "
        f"{checks['acknowledged_bets']} acknowledged ({checks['acknowledged_before_failover']} "
        f"before the failover), lost {checks['lost']}, refunded once {checks['refunded_once']}, "
        f"refunded twice {checks['refunded_twice_or_more']} (in the whole database "
        f"{checks['double_refunds_in_database']}), left open {checks['left_open']}",
        f"check_ledger: exit {checks['check_ledger_exit']}: {' / '.join(checks['check_ledger'])}",
        f"verify_ledger: exit {checks['verify_ledger_exit']}: "
        f"{' / '.join(checks['verify_ledger'])}",
    ]
    if report["havoc_failed"]:
        lines.append(f"HAVOC FAILED: {report['havoc_failed']}")
    lines.append("drill: " + ("ok, nothing lost" if report["ok"] else "FAILED"))
    return lines
