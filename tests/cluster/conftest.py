"""The cluster's real programs for these tests: PostgreSQL made with its own tools, PgBouncer
and HAProxy from the distribution's packages. A test whose program is missing is skipped with
the reason (``.ci/run`` installs them)."""

from __future__ import annotations

import shutil

import pytest

from bench.cluster.postgres import server_binaries
from bench.cluster.processes import ClusterError


def require_programs(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install {' '.join(missing)})")


def require_postgres_programs() -> None:
    try:
        server_binaries()
    except ClusterError as exc:
        pytest.skip(str(exc))
