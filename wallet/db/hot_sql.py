"""Run a hot-path statement on PostgreSQL in as few round trips as the request allows.

Every provider request runs a handful of fixed statements (a cancel: one CTE and the journal
INSERT, in one transaction). Sent the ordinary way, that is four round trips: psycopg's
``BEGIN``, the CTE, the INSERT, ``COMMIT``. Each round trip costs the app and PostgreSQL a send,
a wake-up and a receive, which on a virtual machine costs more CPU than PostgreSQL takes to run
the statement itself. So this module sends:

- a statement that opens the request's transaction together with the ``BEGIN`` that psycopg
  would have sent on its own (``BEGIN; EXECUTE …``, one simple-protocol message);
- the request's last statement together with its ``COMMIT`` (``execute_then_commit``).

A cancel is then two round trips. The statements are prepared once per connection with SQL's
``PREPARE`` (PostgreSQL then neither parses nor plans them again) and run with ``EXECUTE``, the
parameters quoted as literals (``wallet/db/literals.py``: libpq's own quoting).
``DATABASE_PREPARED_STATEMENTS=false`` sends the statement text itself instead, for a pooler
that does not keep a session's prepared statements between transactions (PgBouncer in
transaction mode, whatever its version: its prepared-statement support covers the protocol's,
not SQL's ``PREPARE``).

Everything runs on Django's own connection, so it joins whatever transaction Django has open,
and database errors become Django's exceptions exactly as Django's cursors raise them
(``OperationalError`` for a lock timeout, which the wallet answers as "busy"). psycopg is told
nothing and needs to be told nothing: it reads the transaction status from libpq, so it sends
no second ``BEGIN`` inside a transaction begun here, and no ``COMMIT`` after one ended here.

Statements sent this way are invisible to ``connection.execute_wrapper`` hooks (and so to
``CaptureQueriesContext``), see docs/decisions/0002-sql-prepare-and-literals.md. On other
databases (SQLite) everything here is ``connection.cursor()`` and Django's own transaction.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from psycopg import pq
from psycopg.adapt import AdaptersMap, Transformer
from psycopg.errors import error_from_result
from psycopg.types.datetime import TimestamptzLoader

from wallet.db.literals import Literals, split_at_placeholders


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
    with the transaction rolled back or failed, when the statement or the commit fails; nothing
    is committed then.
    """
    if connection.vendor != "postgresql":
        execute(sql, params)  # Django's atomic block commits it
        return
    _run(sql, params, fetch=False, commit=True)


@dataclass(frozen=True, slots=True)
class _Statement:
    name: bytes
    prepare: bytes  # PREPARE <name> AS <the statement, $1 … $n for its placeholders>
    execute: tuple[bytes, ...]  # EXECUTE <name>(…), split where the n literals go
    inline: tuple[bytes, ...]  # the statement itself, split the same way


@functools.lru_cache(maxsize=128)
def _statement(sql: str) -> _Statement:
    inline = split_at_placeholders(sql.encode())
    count = len(inline) - 1
    numbered = b"".join(part + b"$%d" % n for n, part in enumerate(inline[:-1], 1)) + inline[-1]
    name = b"hot_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest().encode()
    if count:
        execute = (name.join([b"EXECUTE ", b"("]), *[b", "] * (count - 1), b")")
    else:
        execute = (b"EXECUTE " + name,)
    return _Statement(name, b"PREPARE " + name + b" AS " + numbered, execute, inline)


class _Session:
    """What this module keeps for one psycopg connection: the statements prepared on it, and the
    objects that quote parameters and load rows for it (made once: making them per statement
    cost about a fiftieth of a cancel's Python)."""

    __slots__ = ("conn", "literals", "prepared", "transformer")

    def __init__(self, conn: psycopg.Connection[Any], timezone: datetime.tzinfo | None) -> None:
        self.conn = conn
        self.prepared: set[bytes] = set()
        self.transformer = Transformer(_Context(_row_adapters(conn, timezone), conn))
        self.literals = Literals(conn.pgconn, self.transformer, conn.info.encoding)


@dataclass(frozen=True, slots=True)
class _Context:
    """What psycopg's ``Transformer`` asks of its context (``AdaptContext``): adapters to use,
    and the connection (its encoding, its session's time zone)."""

    adapters: AdaptersMap
    connection: psycopg.Connection[Any]


def _row_adapters(conn: psycopg.Connection[Any], timezone: datetime.tzinfo | None) -> AdaptersMap:
    """The connection's adapters, with psycopg's own (compiled) ``timestamptz`` loader in place of
    Django's where the two give the same datetimes. Django's loader, a Python subclass of
    psycopg's, labels each value with Django's time zone and loads it several times slower (a
    cancel's bet row has three timestamps: 5 % of a cancel's instructions); psycopg's labels it
    with the session's ``TimeZone``. Django sets that to its own time zone on connecting; only
    where both are UTC (our settings) is the swap certain to change nothing."""
    adapters = conn.adapters
    if timezone is datetime.UTC and conn.info.parameter_status("TimeZone") == "UTC":
        adapters = AdaptersMap(adapters)
        adapters.register_loader("timestamptz", TimestamptzLoader)
    return adapters


_SESSION_ATTRIBUTE = "_hot_sql_session"


def _session(wrapper: Any) -> _Session:
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


def _run(sql: str, params: Sequence[Any], *, fetch: bool, commit: bool) -> tuple[Any, ...] | None:
    wrapper = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up again
    if wrapper.vendor != "postgresql":
        with wrapper.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if fetch else None
    # What Django's own cursor() does first: the health check (if on), then a connection.
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    with wrapper.wrap_database_errors:
        return _run_on(_session(wrapper), sql, params, fetch=fetch, commit=commit)


def _run_on(
    session: _Session, sql: str, params: Sequence[Any], *, fetch: bool, commit: bool
) -> tuple[Any, ...] | None:
    conn = session.conn
    pgconn = conn.pgconn
    statement = _statement(sql)
    if settings.DATABASE_PREPARED_STATEMENTS:
        if statement.name not in session.prepared:
            # Once per connection, in a round trip of its own. PREPARE is not transactional:
            # the statement stays prepared whatever becomes of the transaction around it.
            _check(pgconn.exec_(statement.prepare), conn)
            session.prepared.add(statement.name)
        text = session.literals.fill(statement.execute, params)
    else:
        text = session.literals.fill(statement.inline, params)
    begin = _begin_command(conn)
    if begin is not None:
        text = begin + b"; " + text
    if commit:
        text += b"; COMMIT"
    # The last result of the message: the statement's (its rows), or COMMIT's, or the error
    # that stopped the message there (PostgreSQL runs none of the statements after it).
    try:
        result = _check(pgconn.exec_(text), conn)
    except psycopg.errors.InvalidSqlStatementName:
        # Someone deallocated our statements (DEALLOCATE ALL, DISCARD ALL): this request fails,
        # the next one on this connection prepares them again.
        session.prepared.clear()
        raise
    if commit and result.command_status != b"COMMIT":
        # COMMIT of a transaction that had failed answers ROLLBACK, without an error.
        raise _not_committed(result.command_status)
    if not fetch or result.status != pq.ExecStatus.TUPLES_OK or result.ntuples == 0:
        return None
    session.transformer.set_pgresult(result)
    row: tuple[Any, ...] = session.transformer.load_row(0, tuple)
    return row


def _begin_command(conn: psycopg.Connection[Any]) -> bytes | None:
    """The ``BEGIN`` psycopg would send before the next statement, or None (autocommit, or a
    transaction already open): with the connection's isolation options, as psycopg words it."""
    if conn.autocommit or conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return None
    parts = [b"BEGIN"]
    if conn.isolation_level is not None:
        level = psycopg.IsolationLevel(conn.isolation_level).name.replace("_", " ")
        parts.append(b"ISOLATION LEVEL " + level.encode())
    if conn.read_only is not None:
        parts.append(b"READ ONLY" if conn.read_only else b"READ WRITE")
    if conn.deferrable is not None:
        parts.append(b"DEFERRABLE" if conn.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _check(result: pq.abc.PGresult, conn: psycopg.Connection[Any]) -> pq.abc.PGresult:
    """The result, or the error it carries as psycopg's exception (as psycopg's cursors raise)."""
    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return result
    if conn.pgconn.status == pq.ConnStatus.BAD:  # the server went away: no SQLSTATE to go by
        message = result.get_error_message(conn.info.encoding) or "the connection was lost"
        raise psycopg.OperationalError(message)
    raise error_from_result(result, encoding=conn.info.encoding)


def _not_committed(status: bytes | None) -> Exception:
    return psycopg.errors.InFailedSqlTransaction(
        f"the transaction was not committed (PostgreSQL answered {status!r})"
    )
