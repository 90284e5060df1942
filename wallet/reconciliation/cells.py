"""How one value becomes one CSV cell, and how rows become a stream of UTF-8 bytes.

Finance opens these files in Excel or LibreOffice, so:

- amounts are plain numbers with exactly ``AMOUNT_PLACES`` decimals (a negative amount stays a
  number: it is never neutralised);
- text that a spreadsheet would read as a formula (first character ``= + - @``, tab, CR or LF)
  gets a leading apostrophe, the OWASP "CSV injection" advice: ids, reasons and usernames come
  from providers and staff, not from us;
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

from django.db.models import CharField, Func

from wallet.models import MONEY_PLACES

AMOUNT_PLACES = MONEY_PLACES
UTF8_BOM = "\ufeff"
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")
#: Bytes gathered before a chunk is handed to the response: big enough to be cheap per row,
#: small enough that the first rows leave the server at once.
CHUNK_BYTES = 64 * 1024

Cell = str
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(UTF8_BOM)
    writer.writerow(header)
    yield _drain(buffer)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_BYTES:
            yield _drain(buffer)
    tail = _drain(buffer)
    if tail:
        yield tail


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate(0)
    return data
