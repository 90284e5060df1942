"""The transaction of one money movement, and the commit a provider request may hold open.

A money service runs in ``money_transaction()``. Inside ``hold_commit()`` (the provider
endpoint's block) the first such transaction to succeed is not committed but handed to the
holder, which writes the request's journal row in it and commits both at once
(``HeldCommit.commit``): one commit per request on the happy path.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DatabaseError, connection, transaction

from wallet.db import hot_sql


class _Abandoned(Exception):
    """Passed to ``Atomic.__exit__`` to roll a held transaction back."""


class HeldCommit:
    """A money transaction that succeeded and now waits for its caller to commit it.

    The provider endpoint holds the commit (``hold_commit``) so that the request's journal row
    is written in the same transaction as the movement it records: one commit per request on the
    happy path. Whatever fails before the commit rolls back the movement with it.
    """

    def __init__(self) -> None:
        self._atomic: transaction.Atomic | None = None

    @property
    def open(self) -> bool:
        return self._atomic is not None

    def _hold(self, atomic: transaction.Atomic) -> None:
        self._atomic = atomic

    def commit(self, last_statement: tuple[str, Sequence[Any]] | None = None) -> None:
        """Commit the held transaction, after ``last_statement`` (sql, params) if given: on
        PostgreSQL the statement and the COMMIT go in one round trip. Raises (having rolled
        back) when either fails."""
        atomic, self._atomic = self._atomic, None
        if atomic is None:
            raise transaction.TransactionManagementError("no held transaction to commit")
        if connection.needs_rollback:  # a statement failed inside: Django would roll back
            atomic.__exit__(_Abandoned, _Abandoned(), None)
            raise transaction.TransactionManagementError("the held transaction had failed")
        if last_statement is not None:
            try:
                hot_sql.execute_then_commit(*last_statement)
            except BaseException:
                atomic.__exit__(*sys.exc_info())
                raise
        atomic.__exit__(None, None, None)

    def rollback(self) -> None:
        atomic, self._atomic = self._atomic, None
        if atomic is None:
            return
        try:
            atomic.__exit__(_Abandoned, _Abandoned(), None)
        except DatabaseError:
            # The connection died with the transaction (a crash, a failover), and Django, leaving
            # the block, could not reconnect to turn autocommit back on. Nothing was committed:
            # the caller answers "try again" as for any failure; the next connection starts anew.
            if connection.connection is not None:
                raise


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
    if held is None or held.open or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        yield
    except BaseException:
        atomic.__exit__(*sys.exc_info())
        raise
    held._hold(atomic)
