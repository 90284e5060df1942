"""Run the hot path's statements on Django's connection in as few round trips as a request allows.

A provider request runs a few fixed statements (a cancel: one CTE and the journal INSERT, in one
transaction). Each goes through Django's cursor wrapper, so ``execute_wrapper`` hooks (APM
agents, ``CaptureQueriesContext``) see it with its parameters, time and error, to a psycopg
cursor of its own (``HotCursor``) that:

- leaves binding the parameters (server-side) and preparing the statement (at the protocol
  level, on its first run on a connection) to psycopg: ``DATABASE_PREPARED_STATEMENTS`` is the
  connection's ``prepare_threshold``, 0 or ``None`` (backoffice/settings.py);
- sends the first statement of a transaction with its ``BEGIN``, and the statement of
  ``execute_then_commit`` with its ``COMMIT``, in one psycopg pipeline: one round trip each, so a
  cancel is two.

psycopg waits for its own ``BEGIN`` before it sends the statement, even in a pipeline, so the
cursor sends ``BEGIN`` itself, having turned psycopg's autocommit on so that psycopg sends none.
It does so only as the first statement of an outermost Django ``atomic`` block, whose commit or
rollback ends the transaction and turns autocommit back on as always. Why, and what it costs:
docs/decisions/0009-psycopg-pipeline-on-the-hot-path.md.

On other databases (SQLite) this is Django's ``connection.cursor()`` and Django's transaction.
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
    return _run(sql, params, fetch=True, commit=False)


def execute(sql: str, params: Sequence[Any]) -> None:
    """Execute ``sql`` (``%s`` placeholders) for its effect."""
    _run(sql, params, fetch=False, commit=False)


def execute_then_commit(sql: str, params: Sequence[Any]) -> None:
    """Execute ``sql``, then commit the transaction it ran in, in one round trip.

    For the last statement of a transaction opened by ``transaction.atomic()``: the caller then
    leaves its atomic block normally (Django's commit finds nothing left to commit). Raises,
    with the transaction failed, when the statement or the commit fails; nothing is committed.
    """
    _run(sql, params, fetch=False, commit=True)


class HotCursor(psycopg.Cursor[Any]):
    """The cursor of one statement on one connection: psycopg keeps a cursor's adaptation of its
    parameters and rows for as long as it runs the same statement, where a cursor shared by
    several statements would adapt each anew. ``begins_transactions`` is set before each run."""

    begins_transactions = False

    def __init__(
        self, begin: psycopg.Cursor[Any], commit: psycopg.Cursor[Any] | None = None
    ) -> None:
        super().__init__(begin.connection)
        self.begin = begin  # the connection's cursors for BEGIN and (if this one commits) COMMIT
        self.commit = commit

    def execute(  # type: ignore[override]  # no template strings here
        self,
        query: QueryNoTemplate,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        conn = self.connection
        idle = conn.pgconn.transaction_status == _IDLE
        begin = self.begins_transactions and idle
        commit = self.commit if begin or not idle else None
        try:
            if not begin and commit is None:
                return super().execute(query, params, prepare=prepare, binary=binary)
            if begin and not conn.autocommit:
                conn.autocommit = True  # idle: psycopg sends nothing, and will send no BEGIN
            with conn.pipeline():
                if begin:
                    self.begin.execute(_BEGIN[conn.isolation_level])
                super().execute(query, params, prepare=prepare, binary=binary)
                if commit is not None:
                    commit.execute(b"COMMIT")
        except psycopg.errors.InvalidSqlStatementName:
            # Deallocated behind psycopg's back. psycopg forgets its statements on a rollback
            # (the caller's, in a transaction) or on a DEALLOCATE ALL it sends, then prepares
            # them again: this statement fails, the next one works.
            if conn.pgconn.transaction_status == _IDLE:
                conn.execute("DEALLOCATE ALL", prepare=False)
            raise
        if commit is not None and commit.statusmessage != "COMMIT":
            # A COMMIT of a transaction that had failed answers ROLLBACK, without an error.
            raise psycopg.errors.InFailedSqlTransaction(
                f"the transaction was not committed ({commit.statusmessage!r})"
            )
        return self


#: The BEGIN psycopg would send, by the connection's isolation level (Django's OPTIONS).
_BEGIN: dict[psycopg.IsolationLevel | None, bytes] = {
    None: b"BEGIN",
    **{
        level: b"BEGIN ISOLATION LEVEL " + level.name.replace("_", " ").encode()
        for level in psycopg.IsolationLevel
    },
}


class _Session:
    """What this module keeps for one psycopg connection: a cursor per statement, and one each
    for BEGIN and COMMIT."""

    __slots__ = ("begin", "commit", "conn", "cursors", "timezone")

    def __init__(self, conn: psycopg.Connection[Any], timezone: datetime.tzinfo | None) -> None:
        self.conn = conn
        self.timezone = timezone
        self.begin = psycopg.Cursor(conn)
        self.commit = psycopg.Cursor(conn)
        self.cursors: dict[tuple[str, bool], HotCursor] = {}

    def cursor(self, sql: str, commits: bool) -> HotCursor:
        cursor = self.cursors.get((sql, commits))
        if cursor is None:
            if len(self.cursors) >= _MAX_STATEMENTS:  # statements built from values: a bug
                self.cursors.clear()
            cursor = HotCursor(self.begin, self.commit if commits else None)
            _adapt(cursor, self.timezone)
            self.cursors[sql, commits] = cursor
        return cursor


#: The hot path has a few dozen statements; more means one of them is built anew per call.
_MAX_STATEMENTS = 200


def _run(sql: str, params: Sequence[Any], *, fetch: bool, commit: bool) -> tuple[Any, ...] | None:
    wrapper = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up again
    if wrapper.vendor != "postgresql":
        with wrapper.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if fetch else None
    # What wrapper.cursor() does, with this statement's cursor.
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    hot = _session(wrapper).cursor(sql, commit)
    # Only where Django's commit or rollback will end the transaction and turn autocommit back
    # on (an outermost atomic block begun in autocommit mode), not in manual-commit mode.
    hot.begins_transactions = wrapper.in_atomic_block and wrapper.commit_on_exit
    wrap = _LoggedCursorWrapper if wrapper.queries_logged else CursorWrapper
    cursor = wrap(hot, wrapper)  # type: ignore[arg-type]  # django-stubs: the driver's cursor
    cursor.execute(sql, params)
    return hot.fetchone() if fetch else None  # the rows are here: nothing left to wrap


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
