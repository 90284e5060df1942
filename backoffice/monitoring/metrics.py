"""The per-request metrics of provider callbacks, in every app-server worker.

granian runs several worker processes: ``prometheus_client`` in multiprocess mode writes each
worker's values to memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR`` (set and emptied by
``backoffice.serve`` before the workers start) and a scrape sums them. Without that variable
(``runserver``, tests in one process) the values stay in this process's default registry.

One call per request (``observe_request``, from the provider view once its journal row is
written), so the counters add up to the journal's rows by provider and outcome.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from prometheus_client import Counter, Histogram

#: Seconds; provider callbacks answer in milliseconds, a lock wait bounds them at ~2 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUESTS = Counter(
    "provider_requests",
    "Provider callbacks answered, by provider and journal outcome (ok, replay:ok, a refusal's "
    "reason, busy or error: the provider's try again).",
    ("provider", "outcome"),
)
LATENCY = Histogram(
    "provider_request_duration_seconds",
    "Time from the request reaching the view to its journal row written.",
    ("provider",),
    buckets=LATENCY_BUCKETS,
)

MONEY_MOVED = Counter(
    "wallet_money_moved",
    "Money moved through wallets, committed, by ledger kind and currency (absolute amounts: "
    "a stake of 5 adds 5 to kind stake).",
    ("kind", "currency"),
)

#: Outcomes after which the provider was told to try again (alerts/try-again rate).
TRY_AGAIN_OUTCOMES = ("busy", "error", "bad_host")

# ``labels()`` takes a lock and builds a key on every call: the children are kept here instead.
_counted: dict[tuple[str, str], Counter] = {}
_timed: dict[str, Histogram] = {}
_moved: dict[tuple[str, str], Counter] = {}


def observe_request(provider: str, outcome: str, latency_us: int) -> None:
    """Count one provider request and its latency (microseconds, as journaled)."""
    key = (provider, outcome)
    counter = _counted.get(key)
    if counter is None:
        counter = _counted[key] = REQUESTS.labels(provider, outcome)
    counter.inc()
    histogram = _timed.get(provider)
    if histogram is None:
        histogram = _timed[provider] = LATENCY.labels(provider)
    histogram.observe(latency_us / 1_000_000)


def count_money_moved(kind: str, currency: str, amount: Decimal) -> None:
    """Count a ledger movement once its transaction commits (never one rolled back)."""
    connection.on_commit(lambda: _add_money(kind, currency, amount))


def _add_money(kind: str, currency: str, amount: Decimal) -> None:
    key = (kind, currency)
    counter = _moved.get(key)
    if counter is None:
        counter = _moved[key] = MONEY_MOVED.labels(kind, currency)
    counter.inc(float(abs(amount)))
