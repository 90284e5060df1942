"""Run the hot path's statements on Django's connection, each through a psycopg cursor of its own.

A provider request runs a few fixed statements (a cancel: one CTE and the journal INSERT). Each
goes through Django's cursor wrapper, so ``execute_wrapper`` hooks (APM agents,
``CaptureQueriesContext``) see it with its parameters, time and error, to a psycopg cursor kept
for that statement on that connection (``HotCursor``): psycopg binds the parameters server-side
and prepares the statement at the protocol level on its first run (``DATABASE_PREPARED_STATEMENTS``
is the connection's ``prepare_threshold``, 0 or ``None``: backoffice/settings.py), and a cursor
that runs one statement keeps its adaptation from one run to the next.

Nothing here begins or ends a transaction: the caller's does (Django's ``atomic``, or the held
money transaction of a provider request, which puts the connection in psycopg's pipeline mode:
wallet/db/held_commit.py). In pipeline mode ``fetch_one`` waits for its row (a round trip) and
``execute`` does not wait: its error, if any, is raised by the next statement that waits or by
the commit.

On other databases (SQLite) this is Django's ``connection.cursor()``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, Self

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg import pq
from psycopg.abc import Params, QueryNoTemplate
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.numeric import Int8Dumper

_IDLE = pq.TransactionStatus.IDLE


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """Execute ``sql`` (``%s`` placeholders, a statement that returns rows): its first row."""
    return _run(sql, params, fetch=True)


def execute(sql: str, params: Sequence[Any]) -> None:
    """Execute ``sql`` (``%s`` placeholders) for its effect."""
    _run(sql, params, fetch=False)


class HotCursor(psycopg.Cursor[Any]):
    """The cursor of one statement on one connection: psycopg keeps a cursor's adaptation of its
    parameters and rows for as long as it runs the same statement, where a cursor shared by
    several statements would adapt each anew.

    With ``fetches`` set, ``execute`` also reads the first row into ``row``: in pipeline mode
    that is where the statement's round trip (and its error) happens, and it belongs inside
    Django's wrapper, which times the call and turns psycopg's errors into Django's.
    """

    fetches = False
    row: tuple[Any, ...] | None = None

    def execute(  # type: ignore[override]  # no template strings here
        self,
        query: QueryNoTemplate,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        try:
            super().execute(query, params, prepare=prepare, binary=binary)
            self.row = self.fetchone() if self.fetches else None
            return self
        except psycopg.errors.InvalidSqlStatementName:
            # Deallocated behind psycopg's back. psycopg forgets its statements on a rollback
            # (the caller's, in a transaction) or on a DEALLOCATE ALL it sends, then prepares
            # them again: this statement fails, the next one works.
            conn = self.connection
            if conn.pgconn.transaction_status == _IDLE and conn.autocommit:
                conn.execute("DEALLOCATE ALL", prepare=False)
            raise


class _Session:
    """What this module keeps for one psycopg connection: a cursor per statement."""

    __slots__ = ("conn", "cursors", "timezone")

    def __init__(self, conn: psycopg.Connection[Any], timezone: datetime.tzinfo | None) -> None:
        self.conn = conn
        self.timezone = timezone
        self.cursors: dict[str, HotCursor] = {}

    def cursor(self, sql: str) -> HotCursor:
        cursor = self.cursors.get(sql)
        if cursor is None:
            if len(self.cursors) >= _MAX_STATEMENTS:  # statements built from values: a bug
                self.cursors.clear()
            cursor = HotCursor(self.conn)
            _adapt(cursor, self.timezone)
            self.cursors[sql] = cursor
        return cursor


#: The hot path has a few dozen statements; more means one of them is built anew per call.
_MAX_STATEMENTS = 200


def _run(sql: str, params: Sequence[Any], *, fetch: bool) -> tuple[Any, ...] | None:
    wrapper = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up again
    if wrapper.vendor != "postgresql":
        with wrapper.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if fetch else None
    # What wrapper.cursor() does, with this statement's cursor.
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    hot = _session(wrapper).cursor(sql)
    hot.fetches = fetch
    wrap = _LoggedCursorWrapper if wrapper.queries_logged else CursorWrapper
    cursor = wrap(hot, wrapper)  # type: ignore[arg-type]  # django-stubs: the driver's cursor
    cursor.execute(sql, params)
    return hot.row


class _LoggedCursorWrapper(CursorDebugWrapper):
    """Django's debug wrapper (``connection.queries``, ``CaptureQueriesContext``), logging the
    statement as it was given: Django would read its text back from psycopg's cursor, which
    keeps none for a prepared statement."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


_SESSION_ATTRIBUTE = "_hot_sql_session"


def _session(wrapper: BaseDatabaseWrapper) -> _Session:
    """The session of the Django connection's current psycopg connection.

    Kept on Django's connection object (one per thread), not in a table keyed by psycopg
    connections: the session refers to its connection, so such a table would keep every
    connection ever closed alive. A new psycopg connection (after a reconnect) gets a new one.
    """
    session: _Session | None = getattr(wrapper, _SESSION_ATTRIBUTE, None)
    if session is None or session.conn is not wrapper.connection:
        session = _Session(wrapper.connection, wrapper.timezone)
        setattr(wrapper, _SESSION_ATTRIBUTE, session)
    return session


def _adapt(cursor: HotCursor, timezone: datetime.tzinfo | None) -> None:
    """The hot cursors' own adaptation, where psycopg's default does not fit them:

    - every Python ``int`` as a ``bigint``: psycopg gives each value the smallest type that
      holds it (``smallint`` … ``numeric``), so a statement would be prepared again for each
      combination its values fall into (a journal row's latency, say);
    - psycopg's own (compiled) ``timestamptz`` loader in place of Django's where the two give
      the same datetimes. Django's, a Python subclass of psycopg's, labels each value with
      Django's time zone and loads it several times slower (a cancel's bet row has three
      timestamps); psycopg's labels it with the session's ``TimeZone``. Django sets that to its
      own time zone on connecting; only where both are UTC (our settings) is the swap certain
      to change nothing.
    """
    cursor.adapters.register_dumper(int, Int8Dumper)
    if timezone is datetime.UTC and cursor.connection.info.parameter_status("TimeZone") == "UTC":
        cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
