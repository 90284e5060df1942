"""Run a hot-path statement on PostgreSQL without Django's cursor wrapper.

Every provider request runs a handful of fixed statements (a cancel: one CTE and the journal
INSERT). Through ``connection.cursor()`` each costs more Python than PostgreSQL takes to run
it: Django's wrapper (about 40 µs) and psycopg's client-side binding, which quotes every
parameter into the SQL text (about 30 µs more for the journal's JSON). This helper sends the
statement with server-side binding (parameters apart from the text) on the same connection, so
it joins whatever transaction Django has open, and it turns database errors into Django's
exceptions exactly as Django's own cursors do (``OperationalError`` for a lock timeout, which
the wallet answers as "busy"). On other databases (SQLite) it is ``connection.cursor()``.

The statements are prepared on each connection (a named server-side prepared statement, the
first time a connection runs one): PostgreSQL then neither parses nor plans them again, which
was a third of its CPU per cancel. ``DATABASE_PREPARED_STATEMENTS=false`` turns this off for a
connection pooler that cannot carry prepared statements across transactions (PgBouncer older
than 1.21 in transaction mode; 1.21+ with ``max_prepared_statements`` can). psycopg forgets
(and deallocates) a connection's prepared statements on every rollback, so a request that
rolled back costs the next one on that connection a new PREPARE: correct, only slower.

Statements sent this way are invisible to ``connection.execute_wrapper`` hooks (and so to
``CaptureQueriesContext``); the few that use it are listed in README, "Performance".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """Execute ``sql`` (``%s`` placeholders, a statement that returns rows): its first row."""
    return _run(sql, params, fetch=True)


def execute(sql: str, params: Sequence[Any]) -> None:
    """Execute ``sql`` (``%s`` placeholders) for its effect."""
    _run(sql, params, fetch=False)


def _run(sql: str, params: Sequence[Any], *, fetch: bool) -> tuple[Any, ...] | None:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() if fetch else None
    import psycopg

    # What Django's own cursor() does first: the health check (if on), then a connection.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params, prepare=settings.DATABASE_PREPARED_STATEMENTS)
            # fetchone() without looking at cursor.description first: building the column
            # descriptions of a 25-column RETURNING costs more Python than the row itself.
            return cursor.fetchone() if fetch else None
