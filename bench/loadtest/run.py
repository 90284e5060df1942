"""One load-test run: seed, build, warm up, drive the server, verify, ceiling, check_ledger and
verify_ledger.

Nothing is timed until every request is built; the seeding and the checks are outside the clock.
"""

from __future__ import annotations

import http.client
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import connection

from bench.loadtest import cpu, scenarios
from bench.loadtest.ceiling import run_ceiling
from bench.loadtest.driver import AnswerHook, Driver, RunResult
from bench.loadtest.report import Figures, Latency
from bench.loadtest.requests import Prepared, RequestFactory
from bench.loadtest.seed import seed_bets, seed_players
from monitoring.progress import Stream, progress
from wallet.chain import chain_key
from wallet.chain_verify import verify_chains
from wallet.consistency import check_ledger

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    base_url: str
    scenario: str
    providers: tuple[str, ...]
    bets: int
    players: int
    concurrency: int
    repeat: float = 0.1
    ceiling: bool = True
    ceiling_bets: int = 0  # 0: as many as the scenario's cancels (at most 20,000)
    warmup: int = 200
    max_seconds: float = 900.0
    seed: int = 1
    database_stats: bool = False  # pg_stat_database counters per request (adds 22 s of waits)


class LoadTestFailed(Exception):
    """The server is unreachable, or the database is not PostgreSQL."""


def server_address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        raise LoadTestFailed(f"--base-url must be http://host:port, not {base_url!r}")
    return parts.hostname, parts.port or 80


def check_server(host: str, port: int) -> None:
    try:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/health/")
        status = conn.getresponse().status
        conn.close()
    except OSError as exc:
        raise LoadTestFailed(
            f"no server at {host}:{port} ({exc}); "
            "start the app server first (python -m backoffice.serve)"
        ) from exc
    if status != 200:
        raise LoadTestFailed(f"{host}:{port}/health/ answered HTTP {status}")


def execute(options: Options, say: Say, *, stream: Stream | None = None) -> dict[str, Any]:
    """Run the scenario and return every figure (also printed through ``say``).

    Seeding, building and sending draw their progress on ``stream`` when it is a terminal.
    """
    if connection.vendor != "postgresql":
        raise LoadTestFailed("the load harness needs PostgreSQL (set DATABASE_URL)")
    host, port = server_address(options.base_url)
    check_server(host, port)
    report: dict[str, Any] = {"options": options.__dict__ | {"providers": list(options.providers)}}
    if not _autovacuum_on():
        say(
            "note: autovacuum is off on this PostgreSQL; dead rows and stale statistics pile up "
            "from run to run (run VACUUM ANALYZE between runs to compare them)"
        )
    tag = "lt" + secrets.token_hex(4)
    report["tag"] = tag  # in every account id, bet key and session token of this run
    rng = random.Random(options.seed)

    started = time.perf_counter()
    players = seed_players(tag, options.players)
    factory = RequestFactory(players, f"{host}:{port}")
    plan = scenarios.plan(
        options.scenario,
        factory,
        players,
        options.providers,
        options.bets,
        repeat=options.repeat,
        rng=rng,
        stream=stream,
    )
    sent = sum(len(flow) for flow in plan.flows)
    ceiling_count = _ceiling_count(options, plan)
    ceiling_bets = seed_bets(players, "jdb", f"{tag}xj", ceiling_count) if ceiling_count else None
    say(
        f"run {tag}: {options.players} players; seeded and built {sent} requests "
        f"({options.scenario}, {'+'.join(options.providers)}) in "
        f"{time.perf_counter() - started:.1f} s, before the clock"
    )

    driver = Driver(host, port, options.concurrency, max_s=options.max_seconds)
    if options.warmup:
        warm = driver.run(scenarios.balance_flows(factory, players, {"jdb": options.warmup}))
        say(f"warm-up: {warm.requests} balance calls, {warm.errors} errors (not counted)")

    journal_before = scenarios.journal_last_id()
    counters_before: dict[str, int] = {}
    if options.database_stats:
        time.sleep(cpu.STATS_IDLE_FLUSH_S)  # the warm-up's counters reach pg_stat_database
        counters_before = cpu.database_counters()
    with progress(desc=options.scenario, total=sent, unit="req", stream=stream) as bar:
        driver.on_answer = None if bar.disable else _counting_final_answers(bar.update)
        cpu_before = cpu.snapshot(_database_name())
        result = driver.run(plan.flows)
        spent = cpu.usage(cpu_before, cpu.snapshot(_database_name()))
    figures = _figures(f"{options.scenario} over HTTP", result)
    report["http"] = figures.as_dict() | _run_details(result)
    say(figures.text())
    if spent is not None:
        report["http"]["cpu"] = _cpu_report(spent, result.requests, result.client_cpu_s)
        say(f"  {_cpu_text(report['http']['cpu'])}")
    if options.database_stats:
        time.sleep(cpu.STATS_IDLE_FLUSH_S)
        counters = _per_request(counters_before, cpu.database_counters(), result.requests)
        report["http"]["database_per_request"] = counters
        say(
            "  database per request (pg_stat_database): "
            + ", ".join(f"{name} {value:.2f}" for name, value in counters.items())
        )
    say(
        f"  answers: {_answers(result)}; errors {result.errors} "
        f"(transport {result.transport_errors}), try again {result.try_again} "
        f"(resent, {result.rounds} rounds), "
        f"undrained {result.undrained}, first pass {result.first_pass_s:.2f} s"
    )
    for example in result.error_examples:
        say(f"  error: {example}")
    client_share = result.client_cpu_s / result.elapsed_s if result.elapsed_s else 0.0
    say(
        f"  load generator: {result.client_cpu_s:.2f} CPU s for {result.requests} requests "
        f"({figures.client_cpu_us_per_request:.0f} µs each, {client_share:.0%} of one core)"
    )

    journal_rows = scenarios.journal_rows_after(journal_before)
    report["journal_rows"] = journal_rows
    say(f"  journal: {journal_rows} rows for {result.requests} requests")
    checks = [scenarios.check_cancels(bets) for bets in plan.cancelled]
    report["cancel_checks"] = [c.__dict__ | {"ok": c.ok} for c in checks]
    for check in checks:
        say(f"  {check.text()}")
    for provider, (prefix, count) in plan.settled_flows.items():
        states = scenarios.count_states(provider, prefix)
        report.setdefault("bet_settle_states", {})[provider] = states
        say(f"  {provider} bet-and-settle: {count} flows, bets by state {states}")

    if ceiling_bets is not None:
        ceiling = run_ceiling(ceiling_bets, options.concurrency)
        ceiling_figures = Figures(
            "ceiling: raw SQL cancels",
            len(ceiling.latencies_ns),
            ceiling.elapsed_s,
            Latency.of(ceiling.latencies_ns),
        )
        ratio = figures.rate / ceiling_figures.rate if ceiling_figures.rate else 0.0
        report["ceiling"] = ceiling_figures.as_dict() | {"missing": ceiling.missing}
        report["ratio"] = round(ratio, 3)
        say(f"{ceiling_figures.text()} ({options.concurrency} connections)")
        if ceiling.cpu is not None:
            count = len(ceiling.latencies_ns)
            report["ceiling"]["cpu"] = _cpu_report(ceiling.cpu, count, ceiling.client_cpu_s)
            say(f"  {_cpu_text(report['ceiling']['cpu'])}")
        say(
            f"ratio: {figures.rate:,.0f} / {ceiling_figures.rate:,.0f} = {ratio:.0%} of the ceiling"
        )

    ledger = check_ledger()
    report["check_ledger"] = {
        "wallets": ledger.wallets_checked,
        "bets": ledger.bets_checked,
        "problems": [str(p) for p in ledger.problems],
    }
    say(
        f"check_ledger: {ledger.wallets_checked} wallets, {ledger.bets_checked} bets, "
        f"{len(ledger.problems)} problems"
    )
    for problem in ledger.problems[:20]:
        say(f"  MISMATCH {problem}")
    chains = verify_chains(chain_key())
    report["verify_ledger"] = {
        "ledger_rows": chains.ledger_rows,
        "broken": [str(link) for link in chains.broken],
    }
    say(f"verify_ledger: {chains.ledger_rows} ledger rows, {len(chains.broken)} broken links")
    for link in chains.broken[:20]:
        say(f"  BROKEN {link}")
    report["ok"] = (
        result.errors == 0
        and result.undrained == 0
        and ledger.ok
        and chains.ok
        and all(c.ok for c in checks)
        and journal_rows == result.requests
    )
    return report


def _counting_final_answers(tick: Callable[[], object]) -> AnswerHook:
    """Ticks once per request that got its final answer: a "try again" or no answer is sent
    again, so the bar ends at the number of requests planned."""

    def counted(request: Prepared, outcome: str) -> None:
        if outcome not in request.retry and not outcome.startswith("no answer"):
            tick()

    return counted


def _autovacuum_on() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        row = cursor.fetchone()
    return row is not None and row[0] == "on"


def _ceiling_count(options: Options, plan: scenarios.Plan) -> int:
    if not options.ceiling or not plan.cancelled:
        return 0
    if options.ceiling_bets:
        return options.ceiling_bets
    return min(20_000, sum(b.count for b in plan.cancelled))


def _figures(name: str, result: RunResult) -> Figures:
    per_request = result.client_cpu_s / result.requests * 1e6 if result.requests else 0.0
    return Figures(
        name,
        result.requests,
        result.elapsed_s,
        Latency.of(result.latencies_ns),
        result.errors,
        result.try_again,
        per_request,
    )


def _run_details(result: RunResult) -> dict[str, Any]:
    return {
        "transport_errors": result.transport_errors,
        "undrained": result.undrained,
        "rounds": result.rounds,
        "first_pass_s": round(result.first_pass_s, 3),
        "client_cpu_s": round(result.client_cpu_s, 3),
        "answers": {" ".join(k): v for k, v in sorted(result.codes.items())},
        "error_examples": result.error_examples,
    }


def _per_request(before: dict[str, int], after: dict[str, int], requests: int) -> dict[str, float]:
    """Counter deltas per request (other sessions on the same database count too)."""
    return {k: round((after[k] - before[k]) / requests, 2) for k in after if requests}


def _cpu_report(spent: cpu.CpuUsage, requests: int, client_s: float) -> dict[str, float]:
    app_us, database_us = spent.per_request_us(requests)
    total = spent.machine_total_s or 1.0
    return {
        "app_us_per_request": round(app_us, 1),
        "database_us_per_request": round(database_us, 1),
        "client_us_per_request": round(client_s / requests * 1e6 if requests else 0.0, 1),
        "machine_busy_share": round(spent.machine_busy_s / total, 3),
        "others_share": round(spent.others_s(client_s) / total, 3),
    }


def _cpu_text(figures: dict[str, float]) -> str:
    return (
        f"CPU per request: app {figures['app_us_per_request']:.0f} µs, PostgreSQL "
        f"{figures['database_us_per_request']:.0f} µs, load generator "
        f"{figures['client_us_per_request']:.0f} µs; machine {figures['machine_busy_share']:.0%} "
        f"busy, {figures['others_share']:.0%} by other processes"
    )


def _answers(result: RunResult) -> str:
    return ", ".join(f"{p} {a} {c} x{n}" for (p, a, c), n in sorted(result.codes.items()))


def _database_name() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"]["NAME"])
