"""How one value becomes one CSV cell, and how rows become a stream of UTF-8 bytes.

Finance opens these files in Excel or LibreOffice, so:

- amounts are plain numbers with exactly ``AMOUNT_PLACES`` decimals (a negative amount stays a
  number: it is never neutralised);
- text that a spreadsheet would read as a formula (first character ``= + - @``, tab, CR or LF)
  gets a leading apostrophe, the OWASP "CSV injection" advice: ids, reasons and usernames come
  from the providers and staff, not from us;
- times are ISO-8601 in UTC with microseconds and a ``Z``;
- the stream may start with a UTF-8 byte-order mark, which Excel needs to read UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import NotSupportedError
from django.db.models import CharField, Func

from wallet.models import MONEY_PLACES

AMOUNT_PLACES = MONEY_PLACES
UTF8_BOM = "\ufeff"
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")
#: Bytes gathered before a chunk is handed to the response: big enough to be cheap per row,
#: small enough that the first rows leave the server at once.
CHUNK_BYTES = 64 * 1024

Cell = str
CSV_LINE_END = "\r\n"
Buffer = bytes | bytearray | memoryview
_PG_ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def text_cell(value: object) -> Cell:
    """Text as a spreadsheet will show it, never as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def amount_cell(value: Decimal | None) -> Cell:
    """An exact amount with a fixed number of decimals (``-10.500000``); empty for None."""
    if value is None:
        return ""
    # Decimal formatting is exact; stored amounts never have more than AMOUNT_PLACES places.
    return f"{value:.{AMOUNT_PLACES}f}"


def time_cell(value: datetime | str | None) -> Cell:
    """ISO-8601 UTC with microseconds: ``2026-01-31T23:59:59.123456Z``; empty for None.

    Accepts the text ``UtcIsoText`` already made in the database (returned as is) or, on
    databases that give back their own text (SQLite: ``2026-01-31 23:59:59.123456``) or a
    datetime, formats it here.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if value.endswith("Z"):
            return value
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored in UTC (USE_TZ), returned naive as text
    elif value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat is C code; strftime would be several times slower per row.
    return value.isoformat(timespec="microseconds")[:26] + "Z"


class UtcIsoText(Func):
    """A datetime column as the export's time text.

    PostgreSQL writes it itself (``to_char``), which is several times faster than loading each
    timestamp into a Python datetime and formatting it again; elsewhere the column comes back
    as the database's own text and ``time_cell`` finishes the job.
    """

    output_field = CharField()

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, Any]:
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char(({sql}) AT TIME ZONE 'UTC', '{_PG_ISO_FORMAT}')", params


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], *, bom: bool = True
) -> Iterator[bytes]:
    """Encode a header and rows as CSV (RFC 4180, CRLF) in UTF-8 chunks of ~``CHUNK_BYTES``.

    The header leaves at once, before ``rows`` is first asked for anything, so a download starts
    while the database is still planning the query.
    """
    yield csv_header(header, bom=bom)
    yield from csv_row_chunks(rows)


def csv_header(header: Sequence[str], *, bom: bool = True) -> bytes:
    """The first chunk of a CSV file: the byte-order mark (if wanted) and the header line."""
    buffer = io.StringIO()
    if bom:
        buffer.write(UTF8_BOM)
    csv.writer(buffer, lineterminator=CSV_LINE_END).writerow(header)
    return _drain(buffer)


def csv_row_chunks(rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """Rows (no header) as CSV in UTF-8 chunks of ~``CHUNK_BYTES``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=CSV_LINE_END)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_BYTES:
            yield _drain(buffer)
    tail = _drain(buffer)
    if tail:
        yield tail


def copy_csv_chunks(messages: Iterable[Buffer]) -> Iterator[bytes]:
    """PostgreSQL's ``COPY ... (FORMAT csv)`` output as the Python writer's bytes, in chunks.

    COPY sends one message per row, ending in a bare LF; the files end their rows in CRLF.
    Only that last byte changes: a line break inside a quoted cell stays as the Python writer
    leaves it.
    """
    limit = CHUNK_BYTES
    buffer = bytearray()
    for message in messages:
        if message[-1:] != b"\n":
            raise ValueError("a COPY message that is not one whole row")
        buffer += message[:-1]
        buffer += b"\r\n"
        if len(buffer) >= limit:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate(0)
    return data


# --- the same cells written by PostgreSQL, for COPY ----------------------------------------------


def _sql_char(char: str) -> str:
    return f"'{char}'" if char.isprintable() else f"chr({ord(char)})"


#: The characters of ``FORMULA_TRIGGERS`` as an SQL list.
_SQL_TRIGGERS = ", ".join(_sql_char(char) for char in sorted(FORMULA_TRIGGERS))


class _PostgresCell(Func):
    """A cell written by PostgreSQL itself; no other database compiles it."""

    output_field = CharField()

    def as_sql(self, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        raise NotSupportedError(f"{type(self).__name__} is written for PostgreSQL's COPY")

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        template = self.cell_sql("{value}")
        uses = template.count("{value}")
        return template.replace("{value}", f"({sql})"), tuple(params) * uses

    def cell_sql(self, value: str) -> str:
        raise NotImplementedError


class SqlTextCell(_PostgresCell):
    """``text_cell`` in SQL: a leading apostrophe before a formula trigger, and NULL for empty
    text (COPY writes NULL as nothing but an empty string as ``""``)."""

    def cell_sql(self, value: str) -> str:
        return (
            f"CASE WHEN {value} = '' THEN NULL "
            f"WHEN left({value}, 1) IN ({_SQL_TRIGGERS}) THEN '''' || {value} "
            f"ELSE {value} END"
        )


class SqlPlainCell(_PostgresCell):
    """Text written as it is (``kind``, ``bet_state``), NULL for empty."""

    def cell_sql(self, value: str) -> str:
        return f"NULLIF({value}, '')"


class SqlAmountCell(_PostgresCell):
    """``amount_cell`` in SQL: numeric's own text, exactly ``AMOUNT_PLACES`` decimals."""

    def cell_sql(self, value: str) -> str:
        return f"round({value}, {AMOUNT_PLACES})::text"
