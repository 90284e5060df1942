"""Archiving whole months of the journal to files, and loading a month back.

A month's file, ``journal-YYYY-MM.jsonl.gz``, holds one row per line: a JSON object with every
column, written by PostgreSQL itself (``to_jsonb``), so the JSON columns keep their exact
numbers and text and a restore puts back the same values. A JSON column that is SQL NULL is left
out of its line (a JSON ``null`` is kept), so the two stay apart. Next to it,
``journal-YYYY-MM.jsonl.gz.sha256`` in ``sha256sum`` format.

A month is dropped (its partition detached and dropped; on SQLite, its rows deleted) only after
its file is written, flushed to disk, read back whole with the same number of rows, and its
checksum written; and only if the month still has exactly that many rows.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.dateparse import parse_datetime

from journal.models import JournalEntry
from journal.partitions import (
    LOCK_TIMEOUT,
    TABLE,
    add_months,
    create_month,
    ensure_months,
    is_partitioned,
    month_bounds,
    months_in_default,
    partition_name,
    partitions,
    with_lock_retries,
)

#: Rows read or written per statement.
BATCH_ROWS = 5_000
#: Called after each batch with the rows written (or loaded) so far.
OnRows = Callable[[int], None]

_FIELDS = [f for f in JournalEntry._meta.concrete_fields]
_COLUMNS = [str(f.column) for f in _FIELDS]
_JSON_COLUMNS = [str(f.column) for f in _FIELDS if isinstance(f, models.JSONField)]
_FILE_NAME = re.compile(r"^journal-(\d{4})-(\d{2})\.jsonl\.gz$")


class ArchiveError(Exception):
    """A month that was not archived or restored (nothing of it was dropped or half-loaded)."""


@dataclass(frozen=True)
class MonthArchive:
    month: date
    rows: int
    path: Path
    sha256: str
    write_seconds: float
    drop_seconds: float


def file_name(month: date) -> str:
    return f"journal-{month:%Y-%m}.jsonl.gz"


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def month_of_file(path: Path) -> date:
    match = _FILE_NAME.match(path.name)
    if not match:
        raise ArchiveError(f"{path.name}: not a journal archive name (journal-YYYY-MM.jsonl.gz)")
    return date(int(match[1]), int(match[2]), 1)


def months_before(connection: BaseDatabaseWrapper, before: date, table: str = TABLE) -> list[date]:
    """The months before ``before`` that hold journal rows (or a partition), oldest first."""
    if is_partitioned(connection, table):
        kept = [m for m in partitions(connection, table).months if m < before]
        return sorted(set(kept) | set(months_in_default(connection, before, table)))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(created_at) FROM {quote(table)} WHERE created_at < %s",  # noqa: S608
            [_db_time(connection, month_bounds(before)[0])],
        )
        row = cursor.fetchone()
    oldest = _as_datetime(row[0]) if row and row[0] else None
    if oldest is None:
        return []
    months = []
    month = date(oldest.year, oldest.month, 1)
    while month < before:
        if _count(connection, table, month) > 0:
            months.append(month)
        month = add_months(month, 1)
    return months


def archive_month(
    connection: BaseDatabaseWrapper,
    month: date,
    directory: Path,
    table: str = TABLE,
    on_rows: OnRows | None = None,
) -> MonthArchive:
    """Write one month to its file and checksum, verify them, then drop the month."""
    path = directory / file_name(month)
    if path.exists() or checksum_path(path).exists():
        raise ArchiveError(f"{path} already exists: move it away first (nothing was dropped)")
    partitioned = is_partitioned(connection, table)
    if partitioned and month not in partitions(connection, table).months:
        create_month(connection, month, table)  # its rows are in the DEFAULT partition
    started = time.monotonic()
    temporary = path.with_name(f".{path.name}.partial")
    try:
        rows = _write(temporary, _lines(connection, month, table, partitioned), on_rows)
        digest = _verify(temporary, rows)
        os.replace(temporary, path)
        _write_checksum(path, digest)
    finally:
        temporary.unlink(missing_ok=True)
    written = time.monotonic() - started
    try:
        with_lock_retries(lambda: _drop_month(connection, month, table, partitioned, rows))
    except Exception as exc:
        # The month stays (it changed after it was written, or its lock never came): remove
        # its file, so that the next run archives it afresh.
        path.unlink(missing_ok=True)
        checksum_path(path).unlink(missing_ok=True)
        if isinstance(exc, ArchiveError):
            raise
        raise ArchiveError(f"{month:%Y-%m}: not dropped ({exc}); its file removed") from exc
    return MonthArchive(month, rows, path, digest, written, time.monotonic() - started - written)


def restore_file(
    connection: BaseDatabaseWrapper,
    path: Path,
    table: str = TABLE,
    on_rows: OnRows | None = None,
) -> tuple[date, int]:
    """Check a month's file against its checksum and load its rows back in one transaction."""
    month = month_of_file(path)
    expected = _read_checksum(path)
    actual = _sha256(path)
    if actual != expected:
        raise ArchiveError(f"{path.name}: checksum {actual} is not the recorded {expected}")
    partitioned = is_partitioned(connection, table)
    if partitioned:
        ensure_months(connection, [month], table)
    loaded = 0
    try:
        with transaction.atomic(using=connection.alias):
            for batch in _batches(_read_lines(path)):
                if partitioned:
                    _insert_postgresql(connection, partition_name(month, table), table, batch)
                else:
                    _insert_rows(connection, table, month, batch)
                loaded += len(batch)
                if on_rows is not None:
                    on_rows(loaded)
    except ArchiveError:
        raise
    except Exception as exc:  # a row of another month, a row already there, a broken line
        raise ArchiveError(f"{path.name}: nothing restored: {exc}") from exc
    return month, loaded


# --- reading rows --------------------------------------------------------------------------


def _lines(
    connection: BaseDatabaseWrapper, month: date, table: str, partitioned: bool
) -> Iterator[str]:
    """The month's rows as JSON lines, in id order, a batch per statement."""
    if partitioned:
        yield from _postgresql_lines(connection, partition_name(month, table))
        return
    start, end = month_bounds(month)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _COLUMNS)
    after = -1
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {quote(table)} "  # noqa: S608
                "WHERE created_at >= %s AND created_at < %s AND id > %s ORDER BY id LIMIT %s",
                [_db_time(connection, start), _db_time(connection, end), after, BATCH_ROWS],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            yield _line(dict(zip(_COLUMNS, row, strict=True)))
        after = rows[-1][0]


def _postgresql_lines(connection: BaseDatabaseWrapper, partition: str) -> Iterator[str]:
    quote = connection.ops.quote_name
    null_json = ", ".join(f"CASE WHEN t.{quote(c)} IS NULL THEN '{c}' END" for c in _JSON_COLUMNS)
    as_line = f"(to_jsonb(t) - array_remove(ARRAY[{null_json}], NULL))::text"
    after = -1
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT t.id, {as_line} FROM {quote(partition)} t "  # noqa: S608
                "WHERE t.id > %s ORDER BY t.id LIMIT %s",
                [after, BATCH_ROWS],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        for _, line in rows:
            yield line
        after = rows[-1][0]


def _line(row: dict[str, Any]) -> str:
    """A row read on SQLite as the line PostgreSQL would write for it."""
    out: dict[str, Any] = {}
    for column, value in row.items():
        if column in _JSON_COLUMNS:
            if value is not None:
                out[column] = json.loads(value)
        elif column == "created_at":
            out[column] = _as_datetime(value).isoformat()
        elif column == "is_cancel":
            out[column] = bool(value)
        else:
            out[column] = value
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def _as_datetime(value: Any) -> datetime:
    """A stored or written time, aware (SQLite keeps UTC times without their offset)."""
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is None:
        raise ArchiveError(f"unreadable time {value!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _db_time(connection: BaseDatabaseWrapper, moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _count(connection: BaseDatabaseWrapper, table: str, month: date) -> int:
    start, end = month_bounds(month)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {connection.ops.quote_name(table)} "  # noqa: S608
            "WHERE created_at >= %s AND created_at < %s",
            [_db_time(connection, start), _db_time(connection, end)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


# --- the file ------------------------------------------------------------------------------


def _write(path: Path, lines: Iterator[str], on_rows: OnRows | None) -> int:
    rows = 0
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as compressed:
            for line in lines:
                compressed.write(line.encode("utf-8") + b"\n")
                rows += 1
                if on_rows is not None and rows % BATCH_ROWS == 0:
                    on_rows(rows)
        raw.flush()
        os.fsync(raw.fileno())
    if on_rows is not None:
        on_rows(rows)
    return rows


def _verify(path: Path, rows: int) -> str:
    """Read the file back whole: it must decompress to ``rows`` JSON lines. Its SHA-256."""
    read = 0
    for line in _read_lines(path):
        json.loads(line)
        read += 1
    if read != rows:
        raise ArchiveError(f"{path.name}: {read} rows read back of {rows} written")
    return _sha256(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_checksum(path: Path, digest: str) -> None:
    target = checksum_path(path)
    temporary = target.with_name(f".{target.name}.partial")
    with open(temporary, "w", encoding="ascii") as file:
        file.write(f"{digest}  {path.name}\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, target)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the two renames are on disk before the month is dropped
    finally:
        os.close(directory)


def _read_checksum(path: Path) -> str:
    target = checksum_path(path)
    try:
        text = target.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{target.name}: cannot read the checksum: {exc}") from exc
    if len(text) != 2 or text[1] != path.name or not re.fullmatch(r"[0-9a-f]{64}", text[0]):
        raise ArchiveError(f"{target.name}: not a SHA-256 line for {path.name}")
    return text[0]


def _read_lines(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as file:
        for line in file:
            yield line.rstrip("\n")


def _batches(lines: Iterator[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


# --- dropping and loading ------------------------------------------------------------------


def _drop_month(
    connection: BaseDatabaseWrapper, month: date, table: str, partitioned: bool, rows: int
) -> None:
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if partitioned:
            partition = quote(partition_name(month, table))
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(f"LOCK TABLE {partition} IN EXCLUSIVE MODE")
            cursor.execute(f"SELECT count(*) FROM {partition}")  # noqa: S608
            row = cursor.fetchone()
            _same_rows(month, rows, int(row[0]) if row else 0)
            cursor.execute(f"ALTER TABLE {quote(table)} DETACH PARTITION {partition}")
            cursor.execute(f"DROP TABLE {partition}")
            return
        _same_rows(month, rows, _count(connection, table, month))
        start, end = month_bounds(month)
        cursor.execute(
            f"DELETE FROM {quote(table)} WHERE created_at >= %s AND created_at < %s",  # noqa: S608
            [_db_time(connection, start), _db_time(connection, end)],
        )


def _same_rows(month: date, written: int, now: int) -> None:
    if written != now:
        raise ArchiveError(f"{month:%Y-%m}: {now} rows now, {written} written: nothing dropped")


def _insert_postgresql(
    connection: BaseDatabaseWrapper, target: str, table: str, lines: list[str]
) -> None:
    """INSERT a batch of lines into the month's partition (whose bounds refuse another month).

    PostgreSQL reads the lines itself; each JSON column is taken as it stands in the line, and
    is SQL NULL where the line leaves it out.
    """
    quote = connection.ops.quote_name
    values = ", ".join(
        f"CASE WHEN r ? '{c}' THEN r -> '{c}' END" if c in _JSON_COLUMNS else f"p.{quote(c)}"
        for c in _COLUMNS
    )
    columns = ", ".join(quote(c) for c in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(target)} ({columns}) SELECT {values} "  # noqa: S608
            "FROM jsonb_array_elements(%s::jsonb) AS r, "
            f"LATERAL jsonb_populate_record(NULL::{quote(table)}, r) AS p",
            ["[" + ",".join(lines) + "]"],
        )


def _insert_rows(
    connection: BaseDatabaseWrapper, table: str, month: date, lines: list[str]
) -> None:
    """The same on SQLite, each value stored as Django stores it."""
    start, end = month_bounds(month)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _COLUMNS)
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    rows = []
    for line in lines:
        row = json.loads(line)
        created_at = _as_datetime(row["created_at"])
        if not start <= created_at < end:
            raise ArchiveError(f"row {row.get('id')} is not of {month:%Y-%m}: nothing restored")
        values = []
        for column in _COLUMNS:
            if column in _JSON_COLUMNS:
                values.append(json.dumps(row[column]) if column in row else None)
            elif column == "created_at":
                values.append(_db_time(connection, created_at))
            else:
                values.append(row.get(column))
        rows.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(table)} ({columns}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )
