"""PgBouncer 1.18 in transaction mode in front of PostgreSQL, with the app's own settings.

A server connection serves one client for one transaction, then another client. What a client
left on it stays there: PgBouncer before 1.21 does not track protocol-level prepared statements,
so a second client preparing "its" first statement finds the first client's under the same
name. And PgBouncer refuses the ``options`` startup parameter that carries the wallet's
``lock_timeout`` when connected directly. ``DATABASE_TRANSACTION_POOLER=true`` is what makes
the app fit (prepared statements off, no startup options, no held cursors), with the role
carrying ``lock_timeout``; ``check --database default`` says whether it does.

The pool has one server connection, so that every client shares it and what leaks shows at
once, not by chance.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.cluster.cluster import APP_ROLE, LOCK_TIMEOUT_MS
from bench.cluster.pooler import LEDGER_CHAIN_KEY, PRIMARY_DATABASE, PgBouncer, pgbouncer_version
from bench.cluster.postgres import PostgresServer
from bench.cluster.processes import free_port, give_to_db_owner
from tests.app_server import ROOT
from tests.cluster.conftest import require_postgres_programs, require_programs
from tests.helpers import ON_POSTGRES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRES, reason="runs in the PostgreSQL pass (its own PostgreSQL and PgBouncer)"
    ),
]

#: Two clients one after the other, each running one hot-path statement in a transaction on
#: its own connection (Django's: one per thread), through the wallet's own module.
TWO_CLIENTS = """
import json, threading
from django.db import connection, transaction
from wallet.db.hot_sql import fetch_one
errors = []
def client():
    try:
        with transaction.atomic():
            fetch_one("SELECT %s::int + 1", [1])
    except Exception as exc:
        errors.append(type(exc.__cause__ or exc).__name__)
    finally:
        connection.close()
for _ in range(2):
    thread = threading.Thread(target=client)
    thread.start()
    thread.join()
print(json.dumps(errors))
"""


@dataclass
class Pooled:
    server: PostgresServer
    pooler: PgBouncer

    def manage(
        self, *args: str, user: str = APP_ROLE, **settings: str
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "backoffice.settings",
            "SECRET_KEY": "pgbouncer-test-only",
            "LEDGER_CHAIN_KEY": LEDGER_CHAIN_KEY,  # what PgBouncer's connect_query sets
            "DEMO_KEYS": "true",
            "DATABASE_URL": self.pooler.url(PRIMARY_DATABASE, user),
            **settings,
        }
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def pooled() -> Iterator[Pooled]:
    require_programs("pgbouncer")
    require_postgres_programs()
    # Not under pytest's folder: PostgreSQL runs as another user, who cannot enter it.
    home = Path(tempfile.mkdtemp(prefix="bo_pgbouncer_test_"))
    give_to_db_owner(home)
    server = PostgresServer("primary", free_port(), home / "postgres")
    pooler = PgBouncer(free_port(), home / "pgbouncer", pool_size=1)
    try:
        server.initdb()
        server.start()
        server.execute(
            f"CREATE ROLE {APP_ROLE} LOGIN",
            f"CREATE DATABASE {PRIMARY_DATABASE} OWNER {APP_ROLE}",
            f"ALTER ROLE {APP_ROLE} IN DATABASE {PRIMARY_DATABASE} "
            f"SET lock_timeout = '{LOCK_TIMEOUT_MS}ms'",
        )
        pooler.configure(server.port, server.port)
        pooler.start()
        yield Pooled(server, pooler)
    finally:
        pooler.stop()
        if server.running():
            server.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


def test_the_debian_pgbouncer_is_older_than_1_21() -> None:
    """What the rest of this file is about: if this fails, PgBouncer keeps prepared statements
    (with max_prepared_statements) and the documented settings can be revisited."""
    require_programs("pgbouncer")
    assert pgbouncer_version() < (1, 21)


def test_prepared_statements_collide_behind_pgbouncer_1_18(pooled: Pooled) -> None:
    ran = pooled.manage(
        "shell",
        "-c",
        TWO_CLIENTS,
        DATABASE_TRANSACTION_POOLER="true",
        DATABASE_PREPARED_STATEMENTS="true",
    )
    assert ran.returncode == 0, ran.stderr
    # The second client's first statement has the first client's name on the shared server.
    assert json.loads(ran.stdout.splitlines()[-1]) == ["DuplicatePreparedStatement"]


def test_the_pooler_setting_turns_prepared_statements_off(pooled: Pooled) -> None:
    ran = pooled.manage("shell", "-c", TWO_CLIENTS, DATABASE_TRANSACTION_POOLER="true")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.splitlines()[-1]) == []


def test_pgbouncer_refuses_the_lock_timeout_startup_option(pooled: Pooled) -> None:
    checked = pooled.manage("check", "--database", "default")
    assert checked.returncode != 0
    assert "unsupported startup parameter: options" in checked.stderr


def test_behind_the_pooler_the_role_carries_the_lock_bound(pooled: Pooled) -> None:
    checked = pooled.manage("check", "--database", "default", DATABASE_TRANSACTION_POOLER="true")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_check_catches_a_role_without_the_lock_bound(pooled: Pooled) -> None:
    checked = pooled.manage(
        "check", "--database", "default", user="postgres", DATABASE_TRANSACTION_POOLER="true"
    )
    assert checked.returncode != 0
    assert "backoffice.E010" in checked.stdout + checked.stderr


#: Three clients one after the other, each moving money on its own connection: with one server
#: connection they all run on the one PgBouncer opened (and gave the chain key, connect_query).
POOLED_MOVES = """
import threading
from decimal import Decimal
from django.db import connection
from wallet.models import Wallet
from wallet.services import player_create, wallet_deposit
player_create(account_id="pooled", currency="USD", opening_balance=Decimal("10"))
wallet_id = Wallet.objects.get(player__account_id="pooled").pk
def client(amount):
    try:
        wallet_deposit(wallet_id=wallet_id, amount=Decimal(amount), reason="through PgBouncer")
    finally:
        connection.close()
for amount in (1, 2, 3):
    thread = threading.Thread(target=client, args=(amount,))
    thread.start()
    thread.join()
print(Wallet.objects.get(pk=wallet_id).balance)
"""


def test_behind_the_pooler_its_connect_query_gives_the_chain_key(pooled: Pooled) -> None:
    """The app sets no session state behind PgBouncer: the ledger's chain trigger gets its key
    from PgBouncer's connect_query, every row is chained, and the check agrees."""
    direct = pooled.server.url(PRIMARY_DATABASE, APP_ROLE)
    migrated = pooled.manage("migrate", "-v0", DATABASE_URL=direct)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    moved = pooled.manage("shell", "-c", POOLED_MOVES, DATABASE_TRANSACTION_POOLER="true")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.splitlines()[-1] == "16.000000"
    verified = pooled.manage("verify_ledger", DATABASE_TRANSACTION_POOLER="true")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "4 ledger rows in 1 wallets" in verified.stdout
    assert "0 broken chains" in verified.stdout
    checked = pooled.manage("check", "--database", "default", DATABASE_TRANSACTION_POOLER="true")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    other_key = pooled.manage(
        "check",
        "--database",
        "default",
        DATABASE_TRANSACTION_POOLER="true",
        LEDGER_CHAIN_KEY="not-the-key-pgbouncer-sets",
    )
    assert other_key.returncode != 0
    assert "backoffice.E012" in other_key.stdout + other_key.stderr
