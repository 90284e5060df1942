"""The load harness end to end, small: a few hundred real requests against the real app server.

What is checked is what the harness exists to show: every answer is the provider's expected
code, every request has its journal row, every bet is refunded exactly once (VP's rounds are
kept), ``check_ledger`` is clean, and the raw-SQL ceiling ran on the same machine.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bench.loadtest.run import Options, execute
from bench.loadtest.scenarios import DEBIT_PROVIDERS, PROVIDERS
from journal.models import JournalEntry
from tests.app_server import AppServer
from tests.helpers import ON_POSTGRES
from wallet.consistency import check_ledger
from wallet.models import Bet, LedgerEntry

pytestmark = [
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="the load harness seeds and measures PostgreSQL; run with DATABASE_URL=postgres://",
    ),
    pytest.mark.django_db(transaction=True),
]


def run(server: AppServer, **options: Any) -> tuple[dict[str, Any], list[str]]:
    lines: list[str] = []
    defaults: dict[str, Any] = {
        "base_url": server.url,
        "scenario": "cancel-storm",
        "providers": PROVIDERS,
        "bets": 120,
        "players": 30,
        "concurrency": 8,
        "ceiling_bets": 60,
        "warmup": 10,
        "max_seconds": 120.0,
    }
    report = execute(Options(**(defaults | options)), lines.append)
    return report, lines


def test_cancel_storm_refunds_each_bet_once_and_measures_the_ceiling(
    app_server: AppServer,
) -> None:
    report, lines = run(app_server)
    assert report["ok"], lines
    http = report["http"]
    assert http["requests"] == 132  # 120 cancels, every tenth sent twice
    assert http["errors"] == 0 and http["transport_errors"] == 0 and http["undrained"] == 0
    assert http["rate"] > 0 and http["latency"]["p99_ms"] >= http["latency"]["p50_ms"] > 0
    assert report["journal_rows"] == 132
    assert sorted(c["provider"] for c in report["cancel_checks"]) == sorted(PROVIDERS)
    assert all(c["ok"] for c in report["cancel_checks"]), report["cancel_checks"]
    # The database, read here independently of the harness: 30 open debits per provider
    # refunded once each, VP's 30 settled rounds kept (rollback answered 2003, no money).
    cancelled = f"{report['tag']}c"  # the scenario's bets; the ceiling's are "<tag>xj..."
    for provider in DEBIT_PROVIDERS:
        refunds = LedgerEntry.objects.filter(
            kind="refund", bet__provider=provider, bet__bet_key__startswith=cancelled
        )
        assert refunds.count() == 30
        assert sorted(refunds.values_list("amount", flat=True)) == sorted(
            Decimal(1 + n % 50) + Decimal("0.25") for n in range(1, 31)
        )
    ceiling_refunds = LedgerEntry.objects.filter(bet__bet_key__startswith=f"{report['tag']}xj")
    assert ceiling_refunds.filter(kind="refund").count() == 60
    assert Bet.objects.filter(provider="vp", cancel_outcome="kept").count() == 30
    assert not LedgerEntry.objects.filter(kind__in=["reversal"]).exists()
    assert http["answers"]["vp cancel 2003"] == 30 and http["answers"]["jdb cancel 0000"] == 30
    ceiling = report["ceiling"]
    assert ceiling["requests"] == 60 and ceiling["missing"] == 0 and report["ratio"] > 0
    assert report["check_ledger"]["problems"] == [] and check_ledger().ok
    assert any(line.startswith("ratio:") for line in lines)


def test_retry_storm_sends_every_cancel_twice_and_refunds_once(app_server: AppServer) -> None:
    report, lines = run(
        app_server,
        scenario="retry-storm",
        providers=DEBIT_PROVIDERS,
        bets=90,
        concurrency=16,
        ceiling=False,
    )
    assert report["ok"], lines
    assert report["http"]["requests"] - report["http"]["try_again"] == 180
    assert report["journal_rows"] == report["http"]["requests"]
    assert LedgerEntry.objects.filter(kind="refund").count() == 90
    # Buffalo answers the second copy BET_ALREADY_SETTLED (Evolution's convention): one OK each.
    answers = report["http"]["answers"]
    assert answers.get("buffalo cancel OK", 0) == 30
    assert answers.get("buffalo cancel BET_ALREADY_SETTLED", 0) == 30
    assert check_ledger().ok


def test_bet_and_settle_and_mixed_traffic_leave_a_clean_ledger(app_server: AppServer) -> None:
    report, lines = run(app_server, scenario="bet-settle", bets=80, ceiling=False)
    assert report["ok"], lines
    # JDB, Naga and Buffalo: a bet and its settle; VP: one betNSettle.
    assert report["http"]["requests"] == 20 * 2 * 3 + 20
    assert report["bet_settle_states"] == {p: {"settled": 20} for p in PROVIDERS}
    report, lines = run(app_server, scenario="mixed", bets=90, ceiling_bets=30)
    assert report["ok"], lines
    assert report["journal_rows"] == report["http"]["requests"]
    assert JournalEntry.objects.filter(action__in=["balance", "Get Balance"]).exists()
    assert check_ledger().ok
