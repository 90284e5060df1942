"""The transaction export: one CSV row per ledger entry (one money movement), oldest first.

The columns are fixed and documented in ``COLUMNS`` (the admin page and the README show the
same descriptions). On PostgreSQL the rows are written by the database itself: one
``COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`` whose columns are already the export's cell
text (``csv_rows``), streamed message by message. Elsewhere (SQLite) rows come from
``.iterator()`` and the Python writer (``format_row``) makes the same bytes. Either way a
million rows start downloading at once in flat memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import F, QuerySet, Value

from wallet.db.replica import read_alias
from wallet.models import LedgerEntry
from wallet.reconciliation.cells import (
    Buffer,
    Cell,
    SqlAmountCell,
    SqlPlainCell,
    SqlTextCell,
    UtcIsoText,
    amount_cell,
    copy_csv_chunks,
    csv_chunks,
    csv_header,
    csv_row_chunks,
    text_cell,
    time_cell,
)
from wallet.reconciliation.filters import BET_CLOSED_AT, ReconciliationFilter, filtered_movements

#: Rows fetched from the database per round trip of the server-side cursor.
FETCH_ROWS = 5000


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column("ledger_id", "Our ledger entry id: unique, increasing; the file is sorted by it."),
    Column("time_utc", "When the money moved, ISO-8601 in UTC (2026-01-31T23:59:59.123456Z)."),
    Column("provider", "jdb, vp, naga or buffalo; empty for a deposit (cashier, not a game)."),
    Column(
        "provider_tx_id",
        "The provider's transaction id that caused the movement (for a cancel without an id of "
        "its own, the bet key); empty for staff actions and deposits.",
    ),
    Column("bet_key", "The provider's bet id (JDB transferId, VP/Naga betId, Buffalo refId)."),
    Column("round_id", "The provider's round id, when it sent one."),
    Column("game_code", "The provider's game code, when it sent one."),
    Column("player", "The player's account id (the id providers know the player by)."),
    Column("currency", "The wallet's currency (ISO code)."),
    Column(
        "kind",
        "stake, win, refund (an open bet cancelled), reversal (a settled round undone), "
        "staff_adjustment or deposit. Staff cancels and resolves are refund and win rows "
        "with staff_user filled in.",
    ),
    Column(
        "amount",
        "Signed change of the player's balance, 6 decimals: negative takes money from the "
        "player (a stake), positive gives it (win, refund, deposit).",
    ),
    Column("balance_after", "The wallet's balance right after this movement, 6 decimals."),
    Column("bet_state", "The bet's state now: open, settled or cancelled; empty for deposits."),
    Column(
        "bet_settled_utc",
        "When the bet was settled, or for a cancelled bet when it was cancelled; empty while "
        "open. The 'settled' date filter uses this column.",
    ),
    Column("staff_user", "The staff login that made the movement, when staff did."),
    Column("reason", "The reason staff (or the cashier) gave, when there is one."),
    Column(
        "date_basis",
        "How the rows were chosen by date: 'created' (by time_utc) or 'settled' "
        "(by bet_settled_utc). The same on every row.",
    ),
)

HEADER: tuple[str, ...] = tuple(column.name for column in COLUMNS)


def _source_fields() -> tuple[str, ...]:
    username = get_user_model().USERNAME_FIELD
    return (
        "id",
        "created_text",
        "provider",
        "provider_tx_id",
        "bet__bet_key",
        "bet__round_id",
        "bet__game_code",
        "wallet__player__account_id",
        "wallet__currency",
        "kind",
        "amount",
        "balance_after",
        "bet__state",
        "closed_text",
        f"staff_user__{username}",
        "reason",
    )


def movement_rows(selection: ReconciliationFilter) -> QuerySet[LedgerEntry, tuple[Any, ...]]:
    """The selected movements as tuples of ``_source_fields()``, in ledger id order."""
    rows = filtered_movements(selection).annotate(
        created_text=UtcIsoText("created_at"), closed_text=UtcIsoText(BET_CLOSED_AT)
    )
    return rows.order_by("id").values_list(*_source_fields())


def format_row(row: Sequence[Any], basis: str) -> list[Cell]:
    """One database tuple as the export's cells, in ``HEADER`` order."""
    (
        ledger_id,
        created_at,
        provider,
        provider_tx_id,
        bet_key,
        round_id,
        game_code,
        account_id,
        currency,
        kind,
        amount,
        balance_after,
        bet_state,
        closed_at,
        staff_user,
        reason,
    ) = row
    return [
        str(ledger_id),
        time_cell(created_at),
        text_cell(provider),
        text_cell(provider_tx_id),
        text_cell(bet_key),
        text_cell(round_id),
        text_cell(game_code),
        text_cell(account_id),
        text_cell(currency),
        kind,
        amount_cell(amount),
        amount_cell(balance_after),
        bet_state or "",
        time_cell(closed_at),
        text_cell(staff_user),
        text_cell(reason),
        basis,
    ]


def export_rows(selection: ReconciliationFilter, *, using: str = "") -> Iterator[list[Cell]]:
    """The export's data rows for the Python writer, streamed from a server-side cursor."""
    basis = selection.basis.value
    alias = using or read_alias(LedgerEntry)
    with _streaming_transaction(alias):
        for row in movement_rows(selection).using(alias).iterator(chunk_size=FETCH_ROWS):
            yield format_row(row, basis)


def csv_rows(selection: ReconciliationFilter) -> QuerySet[LedgerEntry, tuple[Any, ...]]:
    """The selected movements with every column already the export's cell text, in ``HEADER``
    order, written by PostgreSQL (what ``format_row`` does in Python): the query that ``COPY``
    writes, for the export and for ``bench_export`` alike. PostgreSQL only."""
    username = get_user_model().USERNAME_FIELD
    cells: dict[str, Any] = {
        "ledger_id": F("id"),
        "time_utc": UtcIsoText("created_at"),
        "provider": SqlTextCell("provider"),
        "provider_tx_id": SqlTextCell("provider_tx_id"),
        "bet_key": SqlTextCell("bet__bet_key"),
        "round_id": SqlTextCell("bet__round_id"),
        "game_code": SqlTextCell("bet__game_code"),
        "player": SqlTextCell("wallet__player__account_id"),
        "currency": SqlTextCell("wallet__currency"),
        "kind": SqlPlainCell("kind"),
        "amount": SqlAmountCell("amount"),
        "balance_after": SqlAmountCell("balance_after"),
        "bet_state": SqlPlainCell("bet__state"),
        "bet_settled_utc": UtcIsoText(BET_CLOSED_AT),
        "staff_user": SqlTextCell(f"staff_user__{username}"),
        "reason": SqlTextCell("reason"),
        "date_basis": SqlPlainCell(Value(selection.basis.value)),
    }
    assert tuple(cells) == HEADER
    # Annotation names may not repeat the model's own field names: prefixed here.
    named = {f"csv_{name}": expression for name, expression in cells.items()}
    rows = filtered_movements(selection).annotate(**named).order_by("id")
    return rows.values_list(*named)


def copy_statement(selection: ReconciliationFilter) -> tuple[str, Sequence[Any]]:
    """``COPY (csv_rows) TO STDOUT WITH (FORMAT csv)`` and its parameters.

    PostgreSQL takes no bound parameters in a ``COPY``: psycopg's ``copy()`` merges them into
    the text itself, with the connection's own quoting. No ``HEADER``: the export writes the
    header itself before the query starts, so the first bytes leave at once.
    """
    sql, params = csv_rows(selection).query.sql_with_params()
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params


#: Planner settings for the export's COPY, local to its transaction. Left to itself the planner
#: sorts the whole joined result by id before the first row (4 s for a million rows); without
#: the sort it walks the ledger's primary key and joins by index, so the first row leaves at
#: once, for about a third more time in all. JIT compiling only adds time here.
COPY_SETTINGS: tuple[str, ...] = ("SET LOCAL enable_sort = off", "SET LOCAL jit = off")


def copy_messages(statement: str, params: Sequence[Any], *, using: str = "") -> Iterator[Buffer]:
    """What PostgreSQL writes for a ``COPY ... TO STDOUT``, one message (one row) at a time,
    through Django's cursor (so the statement is logged like any other query). Call inside a
    transaction (``COPY_SETTINGS`` are local to it)."""
    with connections[using or read_alias(LedgerEntry)].cursor() as cursor:
        for setting in COPY_SETTINGS:
            cursor.execute(setting)
        # Django's own copy() takes no parameters: psycopg's cursor, logged like Django's.
        logged = cursor.debug_sql(statement, params) if cursor.db.queries_logged else None
        with logged or nullcontext(), cursor.cursor.copy(statement, params) as copy:
            yield from copy


def data_chunks(selection: ReconciliationFilter) -> Iterator[bytes]:
    """The export's data rows as CSV chunks: written by PostgreSQL (COPY) on PostgreSQL, by
    the Python writer elsewhere. The same bytes either way."""
    # The standby when the admin's or the API's export page asks (wallet/db/replica.py).
    alias = read_alias(LedgerEntry)
    if connections[alias].vendor != "postgresql":
        yield from csv_row_chunks(export_rows(selection, using=alias))
        return
    with _streaming_transaction(alias):
        statement, params = copy_statement(selection)
        yield from copy_csv_chunks(copy_messages(statement, params, using=alias))


def _streaming_transaction(alias: str) -> AbstractContextManager[Any]:
    """On PostgreSQL, a read transaction around the rows: one snapshot from first row to last.

    For the Python writer's cursor it also matters for speed: outside a transaction Django
    declares the cursor ``WITH HOLD``, and PostgreSQL then works out (and stores) the whole
    result before it returns the first row. Not on SQLite: its transactions take the write lock
    (IMMEDIATE mode) and would stop every bet for the length of a download.
    """
    if connections[alias].vendor == "postgresql":
        return transaction.atomic(using=alias)
    return nullcontext()


def export_chunks(selection: ReconciliationFilter, *, bom: bool = True) -> Iterator[bytes]:
    """The whole transaction export as UTF-8 CSV chunks (header first, at once, before any
    query)."""
    yield csv_header(HEADER, bom=bom)
    yield from data_chunks(selection)


def python_export_chunks(selection: ReconciliationFilter, *, bom: bool = True) -> Iterator[bytes]:
    """The export written by the Python writer on any database (what SQLite always uses); on
    PostgreSQL the tests compare it byte for byte with the COPY export."""
    return csv_chunks(HEADER, export_rows(selection), bom=bom)
