"""Service-wide figures, read from the database when ``/metrics`` is scraped.

They describe the data, not one worker (stuck bets, VP card cancels waiting, the last ledger
check), so the scraping process reads them once per scrape instead of every worker counting
them. Each query is bounded (stuck counts stop at ``COUNT_LIMIT``, as on the dashboard).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from monitoring.models import LedgerCheckRun
from providers.vp.cards.models import CardStatus, OperatorCard
from wallet.selectors import stuck_summary


class ServiceCollector(Collector):
    """Stuck bets by provider and reason, the oldest one's age, VP card cancels pending, and
    the last ``check_ledger`` run."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        summary = stuck_summary(now=now)
        stuck = GaugeMetricFamily(
            "wallet_stuck_bets",
            "Bets support should look at, by provider and reason (counts stop at the "
            "dashboard's limit + 1).",
            labels=("provider", "reason"),
        )
        for provider, by_reason in summary.counts.items():
            for reason, count in by_reason.items():
                stuck.add_metric((provider, reason.value), count.value)
        yield stuck
        oldest = summary.oldest_overall
        yield GaugeMetricFamily(
            "wallet_oldest_stuck_bet_age_seconds",
            "Age of the oldest stuck bet, whatever its reason; 0 when none is stuck.",
            value=(now - oldest[1].created_at).total_seconds() if oldest else 0,
        )
        pending = OperatorCard.objects.filter(status=CardStatus.CANCEL_PENDING).count()
        yield GaugeMetricFamily(
            "vp_card_cancels_pending",
            "VP operator cards whose cancel VP has not confirmed yet.",
            value=pending,
        )
        yield from _ledger_check()


def _ledger_check() -> Iterator[GaugeMetricFamily]:
    last = LedgerCheckRun.objects.order_by("-finished_at").first()
    yield GaugeMetricFamily(
        "ledger_check_last_run_timestamp_seconds",
        "When check_ledger last finished (Unix time); 0 when it never ran.",
        value=last.finished_at.timestamp() if last else 0,
    )
    yield GaugeMetricFamily(
        "ledger_check_last_ok",
        "1 when the last check_ledger found every balance and bet consistent, else 0.",
        value=1 if last is not None and last.ok else 0,
    )
    yield GaugeMetricFamily(
        "ledger_check_last_problems",
        "Mismatches the last check_ledger found.",
        value=last.problems if last else 0,
    )
