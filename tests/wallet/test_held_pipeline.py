"""The held money transaction on PostgreSQL: one implicit transaction of psycopg's pipeline.

``money_transaction`` inside ``hold_commit`` (a provider request) sends its statements in
pipeline mode without a ``BEGIN``; the holder's ``commit`` sends the journal row and the Sync
that commits everything. These tests hold it to what a transaction must do: nothing is seen
before the commit, the row locks are held until then, whatever fails commits nothing, a rollback
before the Sync takes everything back, and the connection goes on working afterwards.

Real transactions (``transaction=True``): inside the suite's test transaction the held commit
is not pipelined.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, connection
from psycopg import pq

from tests.helpers import other_connection, requires_postgres, terminate_backend
from tests.helpers import stored_players as stored
from wallet.db import hot_sql
from wallet.db.held_commit import HeldCommit, hold_commit, money_transaction
from wallet.models import Player

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

INSERT_PLAYER = (
    "INSERT INTO wallet_player (account_id, status, created_at) "
    "VALUES (%s, 'active', now()) RETURNING id, account_id"
)
#: Without RETURNING: a statement that is sent and not waited for.
INSERT_PLAYER_QUIETLY = (
    "INSERT INTO wallet_player (account_id, status, created_at) VALUES (%s, 'active', now())"
)


class Boom(Exception):
    pass


def connection_is_clean() -> bool:
    """Back to Django's autocommit, psycopg idle and out of pipeline mode."""
    conn = connection.connection
    return (
        connection.get_autocommit()
        and conn.autocommit
        and not connection.in_atomic_block
        and conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
        and conn.pgconn.pipeline_status == pq.PipelineStatus.OFF
    )


@pytest.fixture
def held() -> Iterator[HeldCommit]:
    with hold_commit() as held:
        yield held
    assert connection_is_clean()


def test_nothing_is_seen_before_the_commit_and_everything_after(held: HeldCommit) -> None:
    with money_transaction():
        assert hot_sql.fetch_one(INSERT_PLAYER, ["hp-1"]) is not None
        assert connection.connection.pgconn.pipeline_status == pq.PipelineStatus.ON
    hot_sql.fetch_one(INSERT_PLAYER, ["hp-2"])
    assert stored("hp-1", "hp-2") == set()
    held.commit((INSERT_PLAYER_QUIETLY, ["hp-last"]))
    assert stored("hp-1", "hp-2", "hp-last") == {"hp-1", "hp-2", "hp-last"}


def test_row_locks_are_held_until_the_commit(held: HeldCommit) -> None:
    Player.objects.create(account_id="hp-locked")
    with money_transaction():
        hot_sql.fetch_one(
            "SELECT id FROM wallet_player WHERE account_id = %s FOR UPDATE", ["hp-locked"]
        )
    with other_connection() as other, pytest.raises(psycopg.errors.LockNotAvailable):
        other.execute(
            "SELECT 1 FROM wallet_player WHERE account_id = 'hp-locked' FOR UPDATE NOWAIT"
        )
    held.commit()
    with other_connection() as other:
        other.execute(
            "SELECT 1 FROM wallet_player WHERE account_id = 'hp-locked' FOR UPDATE NOWAIT"
        )


def test_the_orms_reads_inside_see_the_transactions_own_rows(held: HeldCommit) -> None:
    with money_transaction():
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-own"])
        assert Player.objects.filter(account_id="hp-own").exists()
        assert Player.objects.select_for_update().get(account_id="hp-own").status == "active"
    held.commit()
    assert stored("hp-own") == {"hp-own"}


def test_a_block_that_raises_commits_nothing(held: HeldCommit) -> None:
    with pytest.raises(Boom), money_transaction():
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-raised"])
        raise Boom
    assert not held.open and connection_is_clean()
    assert stored("hp-raised") == set()


def test_a_rollback_before_the_commit_takes_everything_back(held: HeldCommit) -> None:
    with money_transaction():
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-rolled-back"])
        hot_sql.execute(INSERT_PLAYER_QUIETLY, ["hp-rolled-back-2"])
    held.rollback()
    assert connection_is_clean()
    assert stored("hp-rolled-back", "hp-rolled-back-2") == set()


def test_a_last_statement_that_fails_commits_nothing(held: HeldCommit) -> None:
    Player.objects.create(account_id="hp-taken")
    with money_transaction():
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-before"])
    with pytest.raises(IntegrityError):  # Django's error, raised by the Sync
        held.commit((INSERT_PLAYER_QUIETLY, ["hp-taken"]))
    assert connection_is_clean()
    assert stored("hp-before") == set()
    hot_sql.execute(INSERT_PLAYER_QUIETLY, ["hp-after"])  # the connection goes on working
    assert stored("hp-after") == {"hp-after"}


def test_a_statement_not_waited_for_that_fails_fails_the_next_that_waits(
    held: HeldCommit,
) -> None:
    Player.objects.create(account_id="hp-dup")
    with pytest.raises(DatabaseError), money_transaction():
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-first"])
        hot_sql.execute(INSERT_PLAYER_QUIETLY, ["hp-dup"])  # fails on the server, unseen yet
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-never"])  # skipped: the pipeline is aborted
    assert connection_is_clean()
    assert stored("hp-first", "hp-never") == set()


def test_a_text_psycopg_refuses_before_sending_rolls_back(held: HeldCommit) -> None:
    with money_transaction():
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-nul-before"])
    with pytest.raises(DatabaseError, match="NUL"):
        held.commit((INSERT_PLAYER_QUIETLY, ["hp-\x00"]))
    assert connection_is_clean()
    assert stored("hp-nul-before") == set()


def test_a_failed_statement_noticed_by_django_is_not_committed(held: HeldCommit) -> None:
    with money_transaction():
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-doomed"])
        connection.needs_rollback = True  # as Django marks it when an inner block failed
    with pytest.raises(DatabaseError, match="had failed"):
        held.commit((INSERT_PLAYER_QUIETLY, ["hp-doomed-2"]))
    assert connection_is_clean()
    assert stored("hp-doomed", "hp-doomed-2") == set()


def test_execute_wrapper_hooks_see_each_statement_with_its_wait() -> None:
    seen: list[tuple[str, str]] = []

    def hook(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        try:
            result = execute(sql, params, many, context)
        except Exception as exc:
            seen.append((params[0], type(exc).__name__))
            raise
        seen.append((params[0], "ok"))
        return result

    Player.objects.create(account_id="hp-hook-taken")
    with connection.execute_wrapper(hook), hold_commit() as held:
        with money_transaction():
            hot_sql.fetch_one(INSERT_PLAYER, ["hp-hook"])
        held.commit()
        with pytest.raises(IntegrityError), money_transaction():
            hot_sql.fetch_one(INSERT_PLAYER, ["hp-hook-taken"])  # waits: its error is its own
    assert seen == [("hp-hook", "ok"), ("hp-hook-taken", "IntegrityError")]


def test_with_an_isolation_level_psycopg_begins_the_held_transaction() -> None:
    """Only an explicit BEGIN carries the connection's transaction options: with one set, the
    held transaction is psycopg's usual one, not pipelined."""
    connection.ensure_connection()
    connection.connection.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    try:
        with hold_commit() as held:
            with money_transaction():
                row = hot_sql.fetch_one(
                    "SELECT current_setting('transaction_isolation') || %s", [""]
                )
                assert connection.connection.pgconn.pipeline_status == pq.PipelineStatus.OFF
                hot_sql.fetch_one(INSERT_PLAYER, ["hp-serializable"])
            assert stored("hp-serializable") == set()
            held.commit()
        assert row == ("serializable",)
        assert stored("hp-serializable") == {"hp-serializable"}
    finally:
        connection.close()


def test_a_connection_lost_in_the_held_transaction_commits_nothing() -> None:
    with hold_commit() as held:
        with money_transaction():
            hot_sql.fetch_one(INSERT_PLAYER, ["hp-lost"])
        terminate_backend(connection.connection.info.backend_pid)
        with pytest.raises(DatabaseError):
            held.commit((INSERT_PLAYER_QUIETLY, ["hp-lost-2"]))
    connection.close()
    assert stored("hp-lost", "hp-lost-2") == set()
    assert hot_sql.fetch_one("SELECT %s::int", [1]) == (1,)


@pytest.mark.parametrize(
    "write",
    [
        lambda: Player.objects.filter(account_id="hp-orm").update(status="blocked"),
        lambda: Player.objects.filter(account_id="hp-orm").delete(),
        lambda: Player.objects.create(account_id="hp-orm-2"),
    ],
    ids=["update", "delete", "create"],
)
def test_an_orm_write_is_refused_before_it_is_sent(held: HeldCommit, write: Any) -> None:
    """The ORM reads an UPDATE's row count before it would arrive in pipeline mode: refused,
    and the transaction with it."""
    Player.objects.create(account_id="hp-orm")
    with pytest.raises(DatabaseError, match="only reads"), money_transaction():
        hot_sql.fetch_one(INSERT_PLAYER, ["hp-orm-before"])
        write()
    assert stored("hp-orm", "hp-orm-2", "hp-orm-before") == {"hp-orm"}
    assert Player.objects.get(account_id="hp-orm").status == "active"
