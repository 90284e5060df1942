"""The transaction of one money movement, and the commit a provider request may hold open.

A money service runs in ``money_transaction()``. Inside ``hold_commit()`` (the provider
endpoint's block) the first such transaction to succeed is not committed but handed to the
holder, which writes the request's journal row in it and commits both at once
(``HeldCommit.commit``): one commit per request on the happy path.

On PostgreSQL the held transaction runs in psycopg's pipeline mode, as one implicit transaction:
statements are sent without a ``BEGIN``, a statement that returns rows waits for them (psycopg
flushes the pipeline, which keeps the transaction open), and the pipeline's closing Sync commits
everything at once, so a cancel is two round trips and carries no ``BEGIN`` or ``COMMIT`` to
run. Why, and what it costs: docs/decisions/0009-psycopg-pipeline-on-the-hot-path.md.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from wallet.db import hot_sql


class _Abandoned(Exception):
    """Passed to ``Atomic.__exit__`` to roll a held transaction back."""


class _Pipelined:
    """A held transaction's statements as one implicit transaction of psycopg's pipeline.

    Django's atomic block stays open around it (so that the ORM's reads inside it, and its
    checks such as ``select_for_update``'s, see a transaction), while psycopg's own autocommit is
    on, so that psycopg sends no ``BEGIN``: PostgreSQL runs everything up to the pipeline's Sync
    in one implicit transaction and commits it at the Sync, or rolls it back if a statement in it
    failed. Rolling back is sending ``ROLLBACK`` before the Sync. Django's commit and rollback
    that follow find psycopg idle and send nothing.

    Only the hot path's statements and the ORM's reads may run in it: the ORM reads an UPDATE's
    or DELETE's row count right after sending it, before it arrives in pipeline mode, and
    PostgreSQL refuses a savepoint in an implicit transaction. The test suite refuses any other
    statement in every held transaction it runs (tests/conftest.py).
    """

    def __init__(self, db: BaseDatabaseWrapper) -> None:
        self._db = db
        self._conn = db.connection
        self._conn.autocommit = True  # idle: psycopg sends nothing, and will send no BEGIN
        self._pipeline = ExitStack()
        self._pipeline.enter_context(self._conn.pipeline())
        self._open = True

    def commit(self) -> None:
        """Send the Sync: PostgreSQL commits, or raises the error of a statement in the block."""
        self._open = False
        with self._db.wrap_database_errors:
            self._pipeline.close()

    def rollback(self) -> None:
        if not self._open:
            return  # the Sync was sent: committed, or rolled back by the error it raised
        self._open = False
        try:
            with self._db.wrap_database_errors:
                try:
                    self._conn.execute(b"ROLLBACK", prepare=False)
                finally:
                    self._pipeline.close()
        except DatabaseError:
            # A statement in the block had failed (PostgreSQL skips what follows it in the
            # pipeline and rolls back at the Sync), or the connection is gone: either way
            # nothing was committed. A dead connection is Django's to notice and replace.
            pass


def _pipelines(db: BaseDatabaseWrapper) -> bool:
    """Whether this connection's held transactions run pipelined: on PostgreSQL, unless the
    connection sets transaction options (an isolation level, read-only), which only an
    explicit ``BEGIN`` carries: then psycopg begins the transaction as usual."""
    if db.vendor != "postgresql":
        return False
    db.ensure_connection()
    conn = db.connection
    return conn.isolation_level is None and conn.read_only is None and conn.deferrable is None


class HeldCommit:
    """A money transaction that succeeded and now waits for its caller to commit it.

    The provider endpoint holds the commit (``hold_commit``) so that the request's journal row
    is written in the same transaction as the movement it records: one commit per request on the
    happy path. Whatever fails before the commit rolls back the movement with it.
    """

    def __init__(self) -> None:
        self._atomic: transaction.Atomic | None = None
        self._pipelined: _Pipelined | None = None

    @property
    def open(self) -> bool:
        return self._atomic is not None

    def _hold(self, atomic: transaction.Atomic, pipelined: _Pipelined | None) -> None:
        self._atomic, self._pipelined = atomic, pipelined

    def commit(self, last_statement: tuple[str, Sequence[Any]] | None = None) -> None:
        """Commit the held transaction, after ``last_statement`` (sql, params) if given: on
        PostgreSQL the statement and the commit go in one round trip. Raises (having rolled
        back) when either fails."""
        atomic, pipelined = self._release()
        if connection.needs_rollback:  # a statement failed inside: Django would roll back
            _abandon(atomic, pipelined)
            raise transaction.TransactionManagementError("the held transaction had failed")
        try:
            if last_statement is not None:
                hot_sql.execute(*last_statement)
            if pipelined is not None:
                pipelined.commit()
        except BaseException:
            if pipelined is not None:
                pipelined.rollback()
            atomic.__exit__(*sys.exc_info())
            raise
        atomic.__exit__(None, None, None)

    def rollback(self) -> None:
        if self._atomic is None:
            return
        atomic, pipelined = self._release()
        try:
            _abandon(atomic, pipelined)
        except DatabaseError:
            # The connection died with the transaction (a crash, a failover), and Django, leaving
            # the block, could not reconnect to turn autocommit back on. Nothing was committed:
            # the caller answers "try again" as for any failure; the next connection starts anew.
            if connection.connection is not None:
                raise

    def _release(self) -> tuple[transaction.Atomic, _Pipelined | None]:
        atomic, pipelined = self._atomic, self._pipelined
        self._atomic = self._pipelined = None
        if atomic is None:
            raise transaction.TransactionManagementError("no held transaction to commit")
        return atomic, pipelined


def _abandon(atomic: transaction.Atomic, pipelined: _Pipelined | None) -> None:
    if pipelined is not None:
        pipelined.rollback()
    atomic.__exit__(_Abandoned, _Abandoned(), None)


_held: ContextVar[HeldCommit | None] = ContextVar("wallet_held_commit", default=None)


@contextmanager
def hold_commit() -> Iterator[HeldCommit]:
    """Within this block the first money service to succeed leaves its transaction open.

    The caller then adds its own rows and calls ``commit()`` (or ``rollback()``); a transaction
    still open when the block ends is rolled back, never left behind.
    """
    held = HeldCommit()
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)
        held.rollback()


@contextmanager
def money_transaction() -> Iterator[None]:
    """One database transaction for one money movement (``transaction.atomic``).

    Inside ``hold_commit`` and outside any other transaction, a block that succeeds is not
    committed here but handed to the holder; a block that fails is rolled back here, as
    ``atomic`` would, so that the caller goes on (answering, journaling) outside any transaction.
    """
    held = _held.get()
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up again
    if held is None or held.open or db.in_atomic_block:
        with transaction.atomic():
            yield
        return
    pipelines = _pipelines(db)
    atomic = transaction.atomic()
    atomic.__enter__()
    pipelined = None
    try:
        pipelined = _Pipelined(db) if pipelines else None
        yield
    except BaseException:
        if pipelined is not None:
            pipelined.rollback()
        atomic.__exit__(*sys.exc_info())
        raise
    held._hold(atomic, pipelined)
