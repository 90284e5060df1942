"""The per-request metrics of provider callbacks, in every app-server worker.

granian runs several worker processes: ``prometheus_client`` in multiprocess mode writes each
worker's values to memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR`` (set and emptied by
``backoffice.serve`` before the workers start) and a scrape sums them. Without that variable
(``runserver``, tests in one process) the values stay in this process's default registry.

One call per request (``observe_request``, from the provider view once its journal row is
written), so the counters add up to the journal's rows by provider and outcome.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar, Token
from decimal import Decimal

from django.db import transaction
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

Movement = tuple[str, str, Decimal]  # kind, currency, signed amount


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


#: The movements of the provider request being served (the provider view sets a list): counted
#: by the view once its held commit succeeded, which costs a cancel half what an on_commit hook
#: per movement does (docs/performance.md). Elsewhere (staff, commands): on_commit.
_request_money: ContextVar[list[Movement] | None] = ContextVar("request_money", default=None)


def count_money_moved(kind: str, currency: str, amount: Decimal) -> None:
    """Count a ledger movement once its transaction commits (never one rolled back)."""
    pending = _request_money.get()
    if pending is not None:
        pending.append((kind, currency, amount))
    else:
        transaction.on_commit(functools.partial(_add_money, kind, currency, amount))


def collect_request_money() -> tuple[list[Movement], Token[list[Movement] | None]]:
    """Start holding this request's movements; ``reset`` the token when the request ends."""
    pending: list[Movement] = []
    return pending, _request_money.set(pending)


def stop_collecting_money(token: Token[list[Movement] | None]) -> None:
    _request_money.reset(token)


def count_committed_money(pending: list[Movement]) -> None:
    for kind, currency, amount in pending:
        _add_money(kind, currency, amount)


def _add_money(kind: str, currency: str, amount: Decimal) -> None:
    key = (kind, currency)
    counter = _moved.get(key)
    if counter is None:
        counter = _moved[key] = MONEY_MOVED.labels(kind, currency)
    counter.inc(float(abs(amount)))
