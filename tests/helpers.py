"""Helpers shared by the test suite: players, balances, ledger rows, real concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from wallet.models import Bet, LedgerEntry, Player, Wallet
from wallet.services import player_create

T = TypeVar("T")

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

#: Real row locks are needed: SQLite serialises whole transactions and proves nothing here.
requires_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs PostgreSQL row locks; run with DATABASE_URL=postgres://... (CI does)",
)


def make_player(account_id: str = "alice", currency: str = "USD", balance: str = "100") -> Player:
    return player_create(account_id=account_id, currency=currency, opening_balance=Decimal(balance))


def balance(account_id: str = "alice", currency: str = "USD") -> Decimal:
    return Wallet.objects.get(player__account_id=account_id, currency=currency).balance


def ledger_kinds(bet_key: str, provider: str) -> list[tuple[str, Decimal]]:
    """The (kind, amount) rows of one bet, oldest first."""
    return list(
        LedgerEntry.objects.filter(bet__provider=provider, bet__bet_key=bet_key)
        .order_by("id")
        .values_list("kind", "amount")
    )


def bet(bet_key: str, provider: str) -> Bet:
    return Bet.objects.get(provider=provider, bet_key=bet_key)


def run_concurrently(tasks: list[Callable[[], T]], timeout: float = 60) -> list[T | BaseException]:
    """Run callables on real threads released together; each thread uses its own DB connection.

    Returns each task's result (or the exception it raised), in task order.
    """
    barrier = threading.Barrier(len(tasks))
    results: list[T | BaseException] = [RuntimeError("did not finish")] * len(tasks)

    def runner(index: int, task: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = task()
        except BaseException as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


def other_connection() -> psycopg.Connection[Any]:
    """A connection of its own to the test database (PostgreSQL), in autocommit: it sees what
    was committed, and only that."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def stored_players(*account_ids: str) -> set[str]:
    """Which of these players another connection sees (what was committed)."""
    with other_connection() as other:
        rows = other.execute(
            "SELECT account_id FROM wallet_player WHERE account_id = ANY(%s)", [list(account_ids)]
        ).fetchall()
    return {row[0] for row in rows}


def terminate_backend(pid: int) -> None:
    """End a PostgreSQL server process from another connection, as a crash or a DBA would."""
    with other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
