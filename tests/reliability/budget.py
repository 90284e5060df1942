"""How hard the reliability tests push: bounded in CI, larger on demand.

Sizes are scaled by ``RELIABILITY_SCALE`` (default 1; e.g. 5 for a long run before a release),
and are larger on PostgreSQL, where the concurrency the tests care about really happens.
Hypothesis keeps no example database (no ``.hypothesis`` folder in the checkout) and prints the
seed of any failure so it can be replayed.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.helpers import ON_POSTGRES

SCALE = max(1, int(os.environ.get("RELIABILITY_SCALE", "1") or "1"))


def sized(sqlite: int, postgres: int) -> int:
    """A size for this database, times ``RELIABILITY_SCALE``."""
    return (postgres if ON_POSTGRES else sqlite) * SCALE


def hypothesis_settings(*, examples: int, steps: int | None = None) -> settings:
    extra = {"stateful_step_count": steps} if steps is not None else {}
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **extra,  # type: ignore[arg-type]
    )
