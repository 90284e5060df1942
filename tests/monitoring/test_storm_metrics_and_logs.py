"""Metrics and JSON logs of a storm through the real app server (2 workers x 4 threads).

A scrape of ``/metrics`` sums every worker's counters (prometheus_client's multiprocess files):
after the storm they must add up to the journal's rows, by provider and outcome. The server's
JSON log lines must carry the journal's request ids and never a key or token.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Abs
from prometheus_client.parser import text_string_to_metric_families

from bench.loadtest.run import Options, execute
from bench.loadtest.scenarios import PROVIDERS
from journal.models import Direction, JournalEntry
from providers import demo_keys
from tests.app_server import AppServer, server_environment
from tests.conftest import provider_settings_environment
from tests.helpers import ON_POSTGRES
from wallet.models import LedgerEntry

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="the app server and harness need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def scrape(
    server: AppServer,
    name: str = "provider_requests_total",
    labels: tuple[str, str] = ("provider", "outcome"),
) -> dict[tuple[str, str], float]:
    """A counter's samples by the values of two of its labels."""
    answer = requests.get(f"{server.url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    counted: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == name:
                first, second = (sample.labels[label] for label in labels)
                counted[(first, second)] = sample.value
    return counted


def provider_money(entries: QuerySet[LedgerEntry]) -> dict[tuple[str, str], float]:
    """Provider movements by kind and currency (absolute amounts, as the counter adds them)."""
    rows = (
        entries.exclude(provider="")
        .values("kind", "wallet__currency")
        .annotate(total=Sum(Abs("amount")))
    )
    return {(r["kind"], r["wallet__currency"]): float(r["total"]) for r in rows}


def journal_counts() -> dict[tuple[str, str], float]:
    rows = (
        JournalEntry.objects.filter(direction=Direction.INBOUND)
        .values("provider", "outcome")
        .annotate(n=Count("id"))
    )
    return {(r["provider"], r["outcome"]): float(r["n"]) for r in rows}


@pytest.fixture
def watched_server(tmp_path: Path, settings: Any) -> Any:
    settings.NAGA_CLIENT_PRIVATE_KEY = demo_keys.NAGA_PRIVATE_KEY_PATH
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"a previous run's counts")  # must be cleared
    env = server_environment() | {
        "METRICS_ALLOWED_IPS": "127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_FORMAT": "json",
    }
    server = AppServer(env, tmp_path / "server.log", workers=2, threads=4).start()
    try:
        yield server
    finally:
        server.stop()


def test_scraped_counters_and_json_lines_match_the_journal(watched_server: AppServer) -> None:
    options = Options(
        base_url=watched_server.url,
        scenario="mixed",
        providers=PROVIDERS,
        bets=120,
        players=30,
        concurrency=8,
        ceiling=False,
        warmup=10,
        max_seconds=120.0,
    )
    lines: list[str] = []
    during: list[dict[tuple[str, str], float]] = []
    storm = threading.Thread(target=lambda: execute(options, lines.append))
    storm.start()
    while storm.is_alive():
        during.append(scrape(watched_server))  # scrapes while the workers count
        storm.join(0.2)
    assert during, "the storm ended before a scrape"
    totals = [sum(s.values()) for s in during]
    assert totals == sorted(totals)  # counters never go back, whichever worker answered

    # Refusals count too: a body no provider can read, and a forged Buffalo token.
    for provider in PROVIDERS:
        requests.post(f"{watched_server.url}/providers/{provider}/", data=b"{", timeout=10)
    requests.post(
        f"{watched_server.url}/providers/buffalo/",
        data=b"authToken=forged-token-value&action=balance",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )

    expected = journal_counts()
    assert sum(expected.values()) >= 160 + len(PROVIDERS) + 1
    assert any(outcome not in ("ok", "cancelled") for _, outcome in expected)
    assert len({provider for provider, _ in expected}) == len(PROVIDERS)
    assert scrape(watched_server) == expected

    # Money: the harness seeds the bets a storm cancels straight into the database, so compare
    # what a storm of bets and settles (all through the server) adds to the counter and ledger.
    money = ("wallet_money_moved_total", ("kind", "currency"))
    before, last_row = scrape(watched_server, *money), LedgerEntry.objects.latest("id").id
    execute(replace(options, scenario="bet-settle", bets=40), lines.append)
    after = scrape(watched_server, *money)
    added = {key: value - before.get(key, 0.0) for key, value in after.items()}
    ledger = provider_money(LedgerEntry.objects.filter(id__gt=last_row))
    assert {kind for kind, _ in ledger} == {"stake", "win"}
    assert {k: v for k, v in added.items() if v} == pytest.approx(ledger)

    log_lines = watched_server.log_path.read_text().splitlines()
    records = [json.loads(line) for line in log_lines if line.startswith("{")]
    request_lines = [r for r in records if r.get("name") == "providers.requests"]
    journal_ids = Counter(
        JournalEntry.objects.filter(direction=Direction.INBOUND).values_list(
            "request_id", flat=True
        )
    )
    assert Counter(r["request_id"] for r in request_lines) == journal_ids
    first = request_lines[0]
    assert {"provider", "action", "bet_key", "outcome", "latency_ms", "time"} <= first.keys()
    assert any(r["bet_key"] for r in request_lines)

    secrets = [
        value
        for name, value in provider_settings_environment().items()
        if name.endswith(("_KEY", "_IV", "_TOKEN")) and value
    ]
    secrets.append(server_environment()["SECRET_KEY"])
    text = "\n".join(log_lines)
    assert "authToken=" not in text and "forged-token-value" not in text
    assert [s for s in secrets if s in text] == []
