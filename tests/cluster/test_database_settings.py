"""What DATABASE_TRANSACTION_POOLER and DATABASE_REPLICA_URL make of the database settings
(read in a fresh process, as an app server reads them at start)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.app_server import ROOT

SHOW = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'databases': settings.DATABASES, 'routers': settings.DATABASE_ROUTERS, "
    "'prepared': settings.DATABASE_PREPARED_STATEMENTS}, default=str))"
)
PRIMARY = "postgres://backoffice@127.0.0.1:6432/backoffice"
STANDBY = "postgres://backoffice@127.0.0.1:6432/backoffice_standby"


def settings_with(**environment: str) -> dict[str, Any]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "SECRET_KEY": "settings-test-only",
        "LEDGER_CHAIN_KEY": "settings-test-only-ledger-chain-key",
        "DATABASE_URL": PRIMARY,
        **environment,
    }
    shown = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {SHOW}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(shown.stdout))


def test_directly_connected_the_session_carries_the_lock_bound_and_prepares() -> None:
    shown = settings_with()
    default = shown["databases"]["default"]
    assert default["OPTIONS"]["options"] == "-c lock_timeout=2000"
    assert shown["prepared"] is True
    assert default["OPTIONS"].get("prepare_threshold", 0) == 0  # psycopg prepares (if told)
    assert not default.get("DISABLE_SERVER_SIDE_CURSORS")
    assert "replica" not in shown["databases"] and shown["routers"] == []


def test_behind_a_transaction_pooler_nothing_outlives_a_transaction() -> None:
    shown = settings_with(DATABASE_TRANSACTION_POOLER="true")
    default = shown["databases"]["default"]
    assert "options" not in default["OPTIONS"]  # PgBouncer refuses startup options
    assert shown["prepared"] is False  # prepared statements off
    assert default["OPTIONS"].get("prepare_threshold") is None
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True  # no cursor held WITH HOLD


def test_a_pooler_that_keeps_prepared_statements_may_have_them_back() -> None:
    """PgBouncer 1.21 or later with max_prepared_statements: an explicit choice."""
    shown = settings_with(DATABASE_TRANSACTION_POOLER="true", DATABASE_PREPARED_STATEMENTS="true")
    assert shown["prepared"] is True


def test_a_replica_url_adds_the_standby_connected_like_the_primary() -> None:
    shown = settings_with(
        DATABASE_REPLICA_URL=STANDBY, DATABASE_TRANSACTION_POOLER="true", CONN_MAX_AGE="600"
    )
    replica = shown["databases"]["replica"]
    assert (replica["NAME"], replica["PORT"]) == ("backoffice_standby", 6432)
    assert replica["CONN_MAX_AGE"] == 600 and replica["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert replica["OPTIONS"] == shown["databases"]["default"]["OPTIONS"]
    assert shown["routers"] == ["wallet.db.replica.ReplicaRouter"]
