"""wallet.db.hot_sql on PostgreSQL: psycopg binds the parameters and prepares the statements;
Django's ``execute_wrapper`` hooks see every statement; the caller's transaction is the
statements' (the held, pipelined one: tests/wallet/test_held_pipeline.py).

Real transactions (``transaction=True``): so that commits and rollbacks are real.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    connection,
    transaction,
)
from django.test.utils import CaptureQueriesContext
from psycopg import pq
from psycopg.types.json import Jsonb

from journal.models import Direction
from tests.helpers import requires_postgres, terminate_backend
from tests.helpers import stored_players as stored
from wallet.db import hot_sql
from wallet.models import Player

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

INSERT_PLAYER = (
    "INSERT INTO wallet_player (account_id, status, created_at) "
    "VALUES (%s, 'active', now()) RETURNING id, account_id"
)


class Rollback(Exception):
    pass


def transaction_status() -> pq.TransactionStatus:
    return pq.TransactionStatus(connection.connection.pgconn.transaction_status)


def prepared_statements(sql: str | None = None) -> set[str]:
    """The names of the connection's prepared statements (of ``sql``'s text only, if given)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement, from_sql FROM pg_prepared_statements")
        rows = cursor.fetchall()
    assert not any(from_sql for _, _, from_sql in rows)  # the protocol's, not SQL PREPARE
    return {name for name, statement, _ in rows if sql is None or statement == _numbered(sql)}


def _numbered(sql: str) -> str:
    """``sql`` as psycopg sends it: ``$1``, ``$2`` … for its placeholders."""
    parts = sql.split("%s")
    return "".join(part + f"${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


@pytest.fixture
def unprepared() -> Iterator[None]:
    """The connection as DATABASE_PREPARED_STATEMENTS=false makes it (prepare_threshold None)."""
    options = connection.settings_dict["OPTIONS"]
    before = options.get("prepare_threshold", 0)
    connection.close()
    options["prepare_threshold"] = None
    try:
        yield
    finally:
        connection.close()
        options["prepare_threshold"] = before


@pytest.fixture(params=["prepared", "unprepared"])
def either_way(request: pytest.FixtureRequest) -> None:
    if request.param == "unprepared":
        request.getfixturevalue("unprepared")


def test_outside_a_transaction_a_statement_commits_on_its_own() -> None:
    hot_sql.execute(INSERT_PLAYER, ["ht-autocommit"])
    assert transaction_status() == pq.TransactionStatus.IDLE
    assert stored("ht-autocommit") == {"ht-autocommit"}


def test_in_djangos_atomic_block_statements_belong_to_its_transaction() -> None:
    """hot_sql begins and ends no transaction: psycopg begins Django's, Django ends it."""
    with pytest.raises(Rollback), transaction.atomic():
        hot_sql.execute(INSERT_PLAYER, ["ht-first-of-block"])
        assert transaction_status() == pq.TransactionStatus.INTRANS
        Player.objects.create(account_id="ht-orm-after")
        raise Rollback
    assert stored("ht-first-of-block", "ht-orm-after") == set()
    with transaction.atomic():
        hot_sql.execute(INSERT_PLAYER, ["ht-kept"])
        with pytest.raises(Rollback), transaction.atomic():
            hot_sql.execute(INSERT_PLAYER, ["ht-savepoint"])
            raise Rollback
        assert stored("ht-kept") == set()  # not committed yet
    assert stored("ht-kept", "ht-savepoint") == {"ht-kept"}
    assert connection.get_autocommit() and connection.connection.autocommit


def test_in_manual_commit_mode_the_callers_commit_decides() -> None:
    transaction.set_autocommit(False)
    try:
        hot_sql.execute(INSERT_PLAYER, ["ht-manual"])
        with transaction.atomic():  # Django's "already in a transaction" block
            hot_sql.execute(INSERT_PLAYER, ["ht-manual-2"])
        assert connection.connection.autocommit is False
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert stored("ht-manual", "ht-manual-2") == set()


def test_execute_wrapper_hooks_see_each_statement_with_its_outcome() -> None:
    """Django's execute_wrapper (APM agents, query counters) sees every hot statement: its time
    is its round trip's, and its error is raised inside the hook."""
    seen: list[tuple[str, list[Any], str]] = []

    def hook(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        try:
            result = execute(sql, params, many, context)
        except Exception as exc:
            seen.append((sql, list(params), type(exc).__name__))
            raise
        seen.append((sql, list(params), "ok"))
        return result

    hot_sql.execute(INSERT_PLAYER, ["ht-wrapped-taken"])
    with connection.execute_wrapper(hook):
        with transaction.atomic():
            hot_sql.fetch_one(INSERT_PLAYER, ["ht-wrapped"])
            hot_sql.execute(INSERT_PLAYER, ["ht-wrapped-2"])
        with pytest.raises(IntegrityError), transaction.atomic():
            hot_sql.execute(INSERT_PLAYER, ["ht-wrapped-taken"])
    assert seen == [
        (INSERT_PLAYER, ["ht-wrapped"], "ok"),
        (INSERT_PLAYER, ["ht-wrapped-2"], "ok"),
        (INSERT_PLAYER, ["ht-wrapped-taken"], "IntegrityError"),
    ]


def test_captured_queries_include_the_hot_statements() -> None:
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        hot_sql.fetch_one(INSERT_PLAYER, ["ht-captured"])
        hot_sql.execute(INSERT_PLAYER, ["ht-captured-2"])
    statements = [query["sql"] for query in captured.captured_queries]
    assert statements.count(INSERT_PLAYER) == 2


def test_statements_are_prepared_once_per_connection_at_the_protocol_level() -> None:
    sql = "SELECT count(*) FROM wallet_player WHERE account_id = %s"
    hot_sql.fetch_one(sql, ["nobody"])
    hot_sql.fetch_one(sql, ["nobody"])
    mine = prepared_statements(sql)
    assert len(mine) == 1 and next(iter(mine)).startswith("_pg3_")
    connection.close()  # a new connection prepares again
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)
    assert len(prepared_statements(sql)) == 1


def test_a_statement_is_prepared_once_whatever_the_size_of_its_numbers() -> None:
    """psycopg would type 1 as smallint and 2**40 as bigint, and prepare the statement once
    for each; the hot cursors send every int as a bigint."""
    sql = "SELECT %s::numeric + %s"
    for value in (1, 40_000, 2**40, -(2**62), True):
        assert hot_sql.fetch_one(sql, [0, int(value)]) == (int(value),)
    assert len(prepared_statements(sql)) == 1


def test_after_a_rollback_statements_are_prepared_again() -> None:
    """psycopg forgets its prepared statements on a rollback (the rolled-back transaction may
    have changed what they refer to) and deallocates them: the next run prepares again."""
    sql = "SELECT count(*) FROM wallet_player WHERE account_id = %s"
    with pytest.raises(Rollback), transaction.atomic():
        hot_sql.fetch_one(sql, ["nobody"])
        assert len(prepared_statements(sql)) == 1
        raise Rollback
    assert prepared_statements(sql) == set()
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)
    assert len(prepared_statements(sql)) == 1


@pytest.mark.usefixtures("unprepared")
def test_without_prepared_statements_nothing_is_prepared() -> None:
    with transaction.atomic():
        hot_sql.fetch_one(INSERT_PLAYER, ["ht-unprepared"])
        hot_sql.execute(INSERT_PLAYER, ["ht-unprepared-2"])
    assert stored("ht-unprepared", "ht-unprepared-2") == {"ht-unprepared", "ht-unprepared-2"}
    assert prepared_statements() == set()


def test_the_setting_is_the_connections_prepare_threshold(settings: Any) -> None:
    """DATABASE_PREPARED_STATEMENTS on: psycopg prepares a statement on its first run (0);
    off: never (None). backoffice/settings.py turns one into the other."""
    expected = 0 if settings.DATABASE_PREPARED_STATEMENTS else None
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == expected
    connection.ensure_connection()
    assert connection.connection.prepare_threshold == expected


@pytest.mark.usefixtures("either_way")
def test_parameters_arrive_exactly_as_given() -> None:
    """psycopg binds the values server-side: hostile text arrives as text."""
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
    terminate_backend(pid[0])
    with pytest.raises(OperationalError):
        hot_sql.fetch_one("SELECT %s::int", [1])
    assert not connection.is_usable()
    connection.close()
    assert hot_sql.fetch_one("SELECT %s::int", [1]) == (1,)


@pytest.mark.usefixtures("either_way")
def test_values_of_other_types_arrive_too() -> None:
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


@pytest.mark.usefixtures("either_way")
def test_subclasses_arrive_as_their_base_type() -> None:
    """A str enum as its text (not its name), an IntEnum as a number, True and False as
    booleans (not as the ints they also are)."""
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
    with pytest.raises(ProgrammingError, match="2 placeholders but 1 parameters"):
        hot_sql.fetch_one("SELECT %s::int, %s::int", [1])


def test_statements_deallocated_through_django_are_prepared_again() -> None:
    """psycopg sees the DEALLOCATE ALL go through its connection and forgets its statements."""
    sql = "SELECT count(*) FROM wallet_player WHERE account_id = %s"
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)
    assert len(prepared_statements(sql)) == 1


@pytest.mark.parametrize("in_transaction", [False, True])
def test_statements_deallocated_behind_psycopgs_back_are_prepared_again(
    in_transaction: bool,
) -> None:
    sql = "SELECT count(*) FROM wallet_player WHERE account_id = %s"
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)
    connection.connection.pgconn.exec_(b"DEALLOCATE ALL")
    with pytest.raises(DatabaseError, match="does not exist"):  # this one fails ...
        if in_transaction:
            with transaction.atomic():
                hot_sql.fetch_one(sql, ["nobody"])
        else:
            hot_sql.fetch_one(sql, ["nobody"])
    assert hot_sql.fetch_one(sql, ["nobody"]) == (0,)  # ... the next prepares again
    assert len(prepared_statements(sql)) == 1


def test_the_transaction_begun_keeps_the_connections_isolation_level() -> None:
    """With OPTIONS["isolation_level"] set, psycopg's BEGIN says so (held transactions too:
    tests/wallet/test_held_pipeline.py)."""
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
    """What hot_sql keeps per connection (a cursor per statement) refers to the connection: it
    must go with it, or every reconnect would leak one."""
    import gc
    import weakref

    hot_sql.fetch_one("SELECT %s::int", [1])
    old = weakref.ref(connection.connection)
    connection.close()
    assert hot_sql.fetch_one("SELECT %s::int", [2]) == (2,)  # a new connection, a new session
    gc.collect()
    assert old() is None


def test_timestamps_load_as_djangos_own_cursors_load_them() -> None:
    """hot_sql loads ``timestamptz`` with psycopg's own loader (Django's is a Python subclass): the
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
