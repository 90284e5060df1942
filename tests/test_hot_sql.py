"""wallet.db.hot_sql on PostgreSQL: BEGIN and COMMIT ride with the statements, and nothing else
about the transaction changes (what rolls back rolls back, what fails commits nothing).

Real transactions (``transaction=True``): inside the suite's test transaction the connection is
never idle, so the combined ``BEGIN; EXECUTE …`` would not be exercised.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from psycopg import pq
from psycopg.types.json import Jsonb

from providers.models import Direction
from tests.helpers import requires_postgres
from wallet.db import hot_sql

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

INSERT_PLAYER = (
    "INSERT INTO wallet_player (account_id, status, created_at) "
    "VALUES (%s, 'active', now()) RETURNING id, account_id"
)


class Rollback(Exception):
    pass


def other_connection() -> psycopg.Connection[Any]:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def stored(*account_ids: str) -> set[str]:
    """The players that another connection sees (what was committed)."""
    with other_connection() as other:
        rows = other.execute(
            "SELECT account_id FROM wallet_player WHERE account_id = ANY(%s)", [list(account_ids)]
        ).fetchall()
    return {row[0] for row in rows}


def transaction_status() -> pq.TransactionStatus:
    return pq.TransactionStatus(connection.connection.pgconn.transaction_status)


def prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_the_statement_that_opens_a_transaction_belongs_to_it() -> None:
    """It carries the BEGIN: without it the INSERT would commit on its own and survive."""
    connection.ensure_connection()
    with pytest.raises(Rollback), transaction.atomic():
        assert transaction_status() == pq.TransactionStatus.IDLE
        row = hot_sql.fetch_one(INSERT_PLAYER, ["ht-rolled-back"])
        assert row is not None and row[1] == "ht-rolled-back"
        assert transaction_status() == pq.TransactionStatus.INTRANS
        raise Rollback
    assert stored("ht-rolled-back") == set()


def test_outside_a_transaction_a_statement_commits_on_its_own() -> None:
    hot_sql.execute(INSERT_PLAYER, ["ht-autocommit"])
    assert transaction_status() == pq.TransactionStatus.IDLE
    assert stored("ht-autocommit") == {"ht-autocommit"}


def test_the_last_statement_carries_the_commit() -> None:
    with transaction.atomic():
        hot_sql.execute(INSERT_PLAYER, ["ht-first"])
        hot_sql.execute_then_commit(INSERT_PLAYER, ["ht-last"])
        # Committed already, in the same round trip: Django's commit finds nothing to do.
        assert transaction_status() == pq.TransactionStatus.IDLE
        assert stored("ht-first", "ht-last") == {"ht-first", "ht-last"}
    assert not connection.in_atomic_block


def test_a_last_statement_that_fails_commits_nothing() -> None:
    hot_sql.execute(INSERT_PLAYER, ["ht-taken"])
    with pytest.raises(IntegrityError), transaction.atomic():
        hot_sql.execute(INSERT_PLAYER, ["ht-before"])
        hot_sql.execute_then_commit(INSERT_PLAYER, ["ht-taken"])  # unique account id
    assert stored("ht-before", "ht-taken") == {"ht-taken"}
    assert transaction_status() == pq.TransactionStatus.IDLE
    hot_sql.execute(INSERT_PLAYER, ["ht-after"])  # the connection goes on working
    assert stored("ht-after") == {"ht-after"}


def test_a_transaction_that_had_failed_is_not_committed() -> None:
    with pytest.raises(DatabaseError, match="transaction is aborted"), transaction.atomic():
        hot_sql.execute(INSERT_PLAYER, ["ht-doomed"])
        connection.connection.pgconn.exec_(b"SELECT 1/0")  # fails behind Django's back
        hot_sql.execute_then_commit(INSERT_PLAYER, ["ht-doomed-2"])
    assert stored("ht-doomed", "ht-doomed-2") == set()


def test_statements_are_prepared_once_per_connection_and_survive_a_rollback() -> None:
    sql = "SELECT count(*) FROM wallet_player WHERE account_id = %s"
    hot_sql.fetch_one(sql, ["nobody"])
    hot_sql.fetch_one(sql, ["nobody"])
    mine = {name for name in prepared_statements() if name.startswith("hot_")}
    assert len(mine) == 1
    with pytest.raises(Rollback), transaction.atomic():
        hot_sql.fetch_one(sql, ["nobody"])
        raise Rollback
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)
    assert {n for n in prepared_statements() if n.startswith("hot_")} == mine
    connection.close()  # a new connection prepares again
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)
    assert {n for n in prepared_statements() if n.startswith("hot_")} == mine


def test_without_prepared_statements_nothing_is_prepared(settings: Any) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = False
    connection.close()
    with transaction.atomic():
        hot_sql.fetch_one(INSERT_PLAYER, ["ht-unprepared"])
        hot_sql.execute_then_commit(INSERT_PLAYER, ["ht-unprepared-2"])
    assert stored("ht-unprepared", "ht-unprepared-2") == {"ht-unprepared", "ht-unprepared-2"}
    assert prepared_statements() == set()


@pytest.mark.parametrize("prepared", [True, False])
def test_parameters_arrive_exactly_as_given(settings: Any, prepared: bool) -> None:
    """Values are quoted as literals by psycopg: hostile text must arrive as text."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    values = [
        "'); DROP TABLE wallet_player; --",
        "back\\slash, 'quote', \"double\", $1, %s, %%, é€😀",
        Decimal("-123456789012.345678"),
        dt.datetime(2026, 11, 22, 7, 59, 1, 234567, tzinfo=dt.UTC),
        None,
        {"nested": ["x'y", "a\\b", 1.5, None, True], "€": "😀"},
        str(uuid.uuid4()),
        2**62,
    ]
    row = hot_sql.fetch_one(
        "SELECT %s::text, %s::text, %s::numeric, %s::timestamptz, %s::text, %s::jsonb, "
        "%s::text, %s::bigint",
        [*values[:5], Jsonb(values[5]), *values[6:]],
    )
    assert row is not None
    # JSON comes back as text, as from Django's own cursors (the model field parses it).
    assert [*row[:5], json.loads(row[5]), *row[6:]] == values
    assert stored("'); DROP TABLE wallet_player; --") == set()  # and the table is still there


def test_a_statement_refused_by_the_database_raises_djangos_error() -> None:
    with pytest.raises(IntegrityError):
        hot_sql.execute(INSERT_PLAYER, [None])  # account_id is NOT NULL


def test_a_lost_connection_raises_operational_error() -> None:
    pid = hot_sql.fetch_one("SELECT pg_backend_pid() + %s", [0])
    assert pid is not None
    with other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid[0]])
    with pytest.raises(OperationalError):
        hot_sql.fetch_one("SELECT %s::int", [1])
    assert not connection.is_usable()
    connection.close()
    assert hot_sql.fetch_one("SELECT %s::int", [1]) == (1,)


@pytest.mark.parametrize("prepared", [True, False])
def test_values_quoted_by_psycopg_arrive_too(settings: Any, prepared: bool) -> None:
    """Types without a quick literal (not finite, naive, dates, UUIDs) go through psycopg."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    values = [
        Decimal("NaN"),
        dt.datetime(2026, 11, 22, 8, 0),
        dt.date(2026, 11, 22),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        -7,
        Decimal("-0.01"),
    ]
    row = hot_sql.fetch_one(
        "SELECT %s::numeric, %s::timestamp, %s::date, %s::uuid, %s::int, %s::numeric", values
    )
    assert row is not None
    assert row[0].is_nan() and list(row[1:]) == values[1:]


class _Level(enum.IntEnum):
    HIGH = 3


class _AwareStamp(dt.datetime):
    """A datetime subclass (as some libraries return)."""


@pytest.mark.parametrize("prepared", [True, False])
def test_subclasses_are_quoted_as_their_base_type(settings: Any, prepared: bool) -> None:
    """A value whose exact type has no quick literal takes its nearest base's: a str enum as
    text, an IntEnum as a number, True and False as booleans (not as the ints they also are)."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    values = [
        Direction.INBOUND,
        _Level.HIGH,
        True,
        False,
        _AwareStamp(2026, 11, 22, 7, 59, 1, tzinfo=dt.UTC),
        Decimal("Infinity"),
    ]
    row = hot_sql.fetch_one(
        "SELECT %s::text, %s::int, %s::boolean, %s::boolean, %s::timestamptz, %s::numeric",
        values,
    )
    assert row is not None
    assert row[:5] == ("in", 3, True, False, dt.datetime(2026, 11, 22, 7, 59, 1, tzinfo=dt.UTC))
    assert row[5] == Decimal("Infinity")


def test_a_negative_number_after_a_minus_is_not_a_comment() -> None:
    assert hot_sql.fetch_one("SELECT 1 -%s::int, 2", [-5]) == (6, 2)


def test_percent_signs_and_placeholders() -> None:
    row = hot_sql.fetch_one("SELECT 'a%%b', %s::text || '%%'", ["x%s"])
    assert row == ("a%b", "x%s%")


def test_text_with_nul_is_refused_before_it_is_sent() -> None:
    with pytest.raises(DatabaseError, match="NUL"):
        hot_sql.fetch_one("SELECT %s::text", ["a\x00b"])
    assert hot_sql.fetch_one("SELECT %s::text", ["ab"]) == ("ab",)


def test_the_wrong_number_of_parameters_is_refused() -> None:
    with pytest.raises(TypeError, match="takes 2 parameters, not 1"):
        hot_sql.fetch_one("SELECT %s::int, %s::int", [1])


def test_statements_deallocated_behind_our_back_are_prepared_again() -> None:
    sql = "SELECT count(*) FROM wallet_player WHERE account_id = %s"
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError, match="does not exist"):
        hot_sql.fetch_one(sql, ["nobody"])  # this one fails ...
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)  # ... the next prepares again


def test_the_transaction_begun_keeps_the_connections_isolation_level() -> None:
    """With OPTIONS["isolation_level"] set, the BEGIN sent with the statement says so too."""
    connection.ensure_connection()
    conn = connection.connection
    conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    try:
        with transaction.atomic():
            row = hot_sql.fetch_one("SELECT current_setting('transaction_isolation') || %s", [""])
        assert row == ("serializable",)
    finally:
        connection.close()


def test_a_closed_connection_is_not_kept_alive_by_what_is_kept_for_it() -> None:
    """What hot_sql keeps per connection (its prepared statements, its quoting) refers to the
    connection: it must go with it, or every reconnect would leak one."""
    import gc
    import weakref

    hot_sql.fetch_one("SELECT %s::int", [1])
    old = weakref.ref(connection.connection)
    connection.close()
    assert hot_sql.fetch_one("SELECT %s::int", [2]) == (2,)  # a new connection, a new session
    gc.collect()
    assert old() is None


def test_timestamps_load_as_djangos_own_cursors_load_them() -> None:
    """hot_sql loads ``timestamptz`` with psycopg's compiled loader (Django's is Python): the
    values must be the very datetimes Django's cursors give, in UTC, to the microsecond."""
    sql = "SELECT %s::timestamptz, %s::timestamptz, %s::timestamptz"
    values = [
        dt.datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45))),
        None,
    ]
    row = hot_sql.fetch_one(sql, values)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        django_row = cursor.fetchone()
    assert row == django_row == tuple(values)
    assert (
        [value.tzinfo for value in row[:2]]
        == [dt.UTC, dt.UTC]
        == [value.tzinfo for value in django_row[:2]]
    )


def test_in_a_session_not_in_utc_timestamps_still_load_as_djangos_cursors_load_them() -> None:
    """Where the session's TimeZone is not Django's UTC, Django's loader re-labels the session's
    wall-clock time as UTC and psycopg's would not: hot_sql must keep Django's answer."""
    sql = "SELECT %s::timestamptz"
    instant = [dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)]
    try:
        connection.close()
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SET TimeZone = 'Asia/Kathmandu'")
            cursor.execute(sql, instant)
            django_row = cursor.fetchone()
        row = hot_sql.fetch_one(sql, instant)
        assert row == django_row and row is not None and row[0].tzinfo is dt.UTC
    finally:
        connection.close()
