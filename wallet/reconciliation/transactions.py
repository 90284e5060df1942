"""The transaction export: one CSV row per ledger entry (one money movement), oldest first.

The columns are fixed and documented in ``COLUMNS`` (the admin page and the README show the
same descriptions). Rows come from a server-side cursor (``.iterator(chunk_size=...)``) and
are encoded as they arrive, so a million rows start downloading at once in flat memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import QuerySet

from wallet.models import LedgerEntry
from wallet.reconciliation.cells import (
    Cell,
    UtcIsoText,
    amount_cell,
    csv_chunks,
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


def export_rows(selection: ReconciliationFilter) -> Iterator[list[Cell]]:
    """The export's data rows, streamed from a server-side cursor."""
    basis = selection.basis.value
    with _streaming_transaction():
        for row in movement_rows(selection).iterator(chunk_size=FETCH_ROWS):
            yield format_row(row, basis)


def _streaming_transaction() -> AbstractContextManager[Any]:
    """On PostgreSQL, a read transaction around the cursor.

    Outside a transaction Django declares the cursor ``WITH HOLD``, and PostgreSQL then works
    out (and stores) the whole result before it returns the first row: a million rows would
    wait for the whole query. Inside one, rows leave as the query finds them, all from one
    snapshot. Not on SQLite: its transactions take the write lock (IMMEDIATE mode) and would
    stop every bet for the length of a download.
    """
    if connection.vendor == "postgresql":
        return transaction.atomic()
    return nullcontext()


def export_chunks(selection: ReconciliationFilter, *, bom: bool = True) -> Iterator[bytes]:
    """The whole transaction export as UTF-8 CSV chunks (header first, at once)."""
    return csv_chunks(HEADER, export_rows(selection), bom=bom)
