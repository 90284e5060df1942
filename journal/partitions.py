"""The journal's monthly partitions on PostgreSQL: their names, their bounds, creating them.

Every month of ``created_at`` (in UTC) has its own partition, ``<table>_pYYYY_MM``; a DEFAULT
partition, ``<table>_default``, takes any row no month partition holds, so an INSERT never
fails for want of a partition. ``journal_partitions`` (cron) creates the coming months ahead of
time; a month that was missed and already has rows in the DEFAULT partition gets them moved
into its new partition.

A new month is created as a plain table and then attached, which locks the journal only in
SHARE UPDATE EXCLUSIVE mode: providers keep writing meanwhile (``CREATE TABLE ... PARTITION OF``
would take an ACCESS EXCLUSIVE lock on the whole journal).

On SQLite the journal is one table and every function here does nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from django.db import OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from journal.models import JournalEntry

TABLE = JournalEntry._meta.db_table
#: Months created ahead of the current one, by the conversion and by ``journal_partitions``.
MONTHS_AHEAD = 3
#: How long partition maintenance waits for a lock before giving up (and trying again later):
#: never long enough for the providers' INSERTs queued behind it to notice.
LOCK_TIMEOUT = "2s"

#: Tries of a step that gave up waiting for its lock (each waits ``LOCK_TIMEOUT`` at most).
LOCK_ATTEMPTS = 30

T = TypeVar("T")

_MONTH_SUFFIX = re.compile(r"_p(\d{4})_(\d{2})$")


def is_postgresql(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "postgresql"


def with_lock_retries(step: Callable[[], T]) -> T:
    """Run a step that gives up after ``LOCK_TIMEOUT`` waiting for its lock, until it gets it.

    Giving up and trying again, rather than waiting, keeps providers' INSERTs from queueing
    behind a lock request for longer than ``LOCK_TIMEOUT``.
    """
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            return step()
        except OperationalError as exc:
            if "lock timeout" not in str(exc) or attempt == LOCK_ATTEMPTS:
                raise
            time.sleep(min(0.1 * attempt, 2.0))
    raise AssertionError("unreachable")


def first_of_month(moment: date | datetime) -> date:
    return date(moment.year, moment.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in UTC (a range's lower and upper)."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime.combine(add_months(month, 1), datetime.min.time(), tzinfo=UTC)
    return start, end


def partition_name(month: date, table: str = TABLE) -> str:
    return f"{table}_p{month.year:04d}_{month.month:02d}"


def default_partition_name(table: str = TABLE) -> str:
    return f"{table}_default"


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the first of that month (ValueError otherwise)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"{text!r} is not a month written YYYY-MM")
    return date(int(match[1]), int(match[2]), 1)


def is_partitioned(connection: BaseDatabaseWrapper, table: str = TABLE) -> bool:
    if not is_postgresql(connection):
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind = 'p' FROM pg_class c WHERE c.oid = to_regclass(%s)",
            [table],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class Partitions:
    months: list[date]
    has_default: bool


def partitions(connection: BaseDatabaseWrapper, table: str = TABLE) -> Partitions:
    """The month partitions attached to the journal, oldest first, and whether DEFAULT is."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        names = [name for (name,) in cursor.fetchall()]
    months = []
    for name in names:
        match = _MONTH_SUFFIX.search(name)
        if match and name.startswith(table):
            months.append(date(int(match[1]), int(match[2]), 1))
    return Partitions(sorted(months), default_partition_name(table) in names)


def ensure_months(
    connection: BaseDatabaseWrapper,
    months: list[date],
    table: str = TABLE,
) -> list[date]:
    """Create the partitions of these months that do not exist yet; the months created."""
    if not is_partitioned(connection, table):
        return []
    existing = set(partitions(connection, table).months)
    created = []
    for month in sorted(set(months) - existing):
        create_month(connection, month, table)
        created.append(month)
    return created


def ensure_months_ahead(
    connection: BaseDatabaseWrapper,
    today: date,
    ahead: int = MONTHS_AHEAD,
    table: str = TABLE,
) -> list[date]:
    """This month's partition and the next ``ahead`` months'; the months created."""
    this_month = first_of_month(today)
    return ensure_months(connection, [add_months(this_month, n) for n in range(ahead + 1)], table)


def create_month(connection: BaseDatabaseWrapper, month: date, table: str = TABLE) -> None:
    """Create and attach one month's partition, moving in its rows from the DEFAULT partition.

    One transaction: the DEFAULT partition is locked against writes first, so no row of the
    month can land there between the move and the attach (which checks that none is left).
    """
    quote = connection.ops.quote_name
    name = partition_name(month, table)
    default = default_partition_name(table)
    start, end = month_bounds(month)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(
            f"CREATE TABLE {quote(name)} "
            f"(LIKE {quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)"
        )
        if _has_default(connection, table):
            cursor.execute(f"LOCK TABLE {quote(default)} IN SHARE ROW EXCLUSIVE MODE")
            # Only metadata (quoted names) is interpolated; the bounds are parameters.
            cursor.execute(
                f"WITH moved AS (DELETE FROM {quote(default)} "  # noqa: S608
                "WHERE created_at >= %s AND created_at < %s RETURNING *) "
                f"INSERT INTO {quote(name)} SELECT * FROM moved",
                [start, end],
            )
        cursor.execute(
            f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(name)} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )


def _has_default(connection: BaseDatabaseWrapper, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [default_partition_name(table)])
        row = cursor.fetchone()
    return bool(row and row[0])


def months_in_default(
    connection: BaseDatabaseWrapper, before: date, table: str = TABLE
) -> list[date]:
    """The months before ``before`` that have rows in the DEFAULT partition (a missed month)."""
    if not _has_default(connection, table):
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date "  # noqa: S608
            f"FROM {quote(default_partition_name(table))} WHERE created_at < %s",
            [month_bounds(before)[0]],
        )
        return sorted(month for (month,) in cursor.fetchall())
