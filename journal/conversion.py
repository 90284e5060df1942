"""Turning the unpartitioned journal table into one partitioned by month, while it is written.

Used by migration ``journal`` 0002 and by the benchmark ``bench_journal_partition`` (the same
code, so the benchmark measures what the migration does). Kept importable under this name:
the migration imports it.

The steps, each in a transaction of its own so that providers keep writing all along:

1. create the partitioned table beside the journal (same columns, defaults and checks; the
   primary key ``(id, created_at)``, since PostgreSQL wants the partition key in it; the same
   indexes under temporary names), its month partitions and a DEFAULT partition;
2. install a trigger on the journal that copies each new row into it: from here on nothing
   written to the journal can be missed (installing it waits for the INSERTs in flight);
3. copy the existing rows in batches of ids (``ON CONFLICT DO NOTHING``: a row the trigger
   copied first is not copied twice);
4. the swap, the only exclusive lock: the sequence is moved past the journal's, then the
   tables and their indexes change names, in one short transaction;
5. outside any lock, every row of the old table is checked to be in the new one (any missing
   row is copied), then the old table is dropped.

The journal is append-only: a row updated or deleted during the conversion keeps the copy
taken before. Django keeps ``id`` as the model's primary key; the ids still come from one
sequence, so they stay unique.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from journal.partitions import (
    LOCK_TIMEOUT,
    MONTHS_AHEAD,
    TABLE,
    add_months,
    default_partition_name,
    first_of_month,
    is_partitioned,
    is_postgresql,
    month_bounds,
    partition_name,
    with_lock_retries,
)

#: Rows per copy transaction: small enough that each commits in well under a second.
BATCH_ROWS = 20_000

#: Called after each copied batch with the rows copied so far and the rows there were to copy.
OnBatch = Callable[[int, int], None]

_INDEX_DEF = re.compile(r"^CREATE INDEX (\S+) ON (?:ONLY )?(\S+) (USING .*)$")


@dataclass
class ConversionReport:
    converted: bool = False
    rows_copied: int = 0
    rows_recopied: int = 0
    months: int = 0
    total_seconds: float = 0.0
    copy_seconds: float = 0.0
    trigger_lock_seconds: float = 0.0
    swap_lock_seconds: float = 0.0
    verify_seconds: float = 0.0
    #: When each step began (``time.monotonic()``), for lining up what else ran meanwhile.
    steps: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Names:
    table: str

    @property
    def new(self) -> str:
        return f"{self.table}_partitioned"

    @property
    def old(self) -> str:
        return f"{self.table}_unpartitioned"

    @property
    def sequence(self) -> str:
        return f"{self.table}_id_seq"

    @property
    def new_sequence(self) -> str:
        return f"{self.table}_id_seq_partitioned"

    @property
    def trigger(self) -> str:
        return f"{self.table}_to_partitioned"


def convert(
    connection: BaseDatabaseWrapper,
    today: date,
    table: str = TABLE,
    months_ahead: int = MONTHS_AHEAD,
    batch_rows: int = BATCH_ROWS,
    on_batch: OnBatch | None = None,
) -> ConversionReport:
    """Partition ``table`` by month (PostgreSQL; nothing elsewhere or if it already is)."""
    report = ConversionReport()
    if not is_postgresql(connection):
        return report
    names = _Names(table)
    started = time.monotonic()
    if is_partitioned(connection, table):
        if _exists(connection, names.old):  # a conversion stopped after its swap
            _verify_and_drop_old(connection, names, report)
        return report
    report.steps["create"] = started
    _drop_leftovers(connection, names)
    months = _months_to_create(connection, table, today, months_ahead)
    _create_partitioned(connection, names, months)
    report.months = len(months)
    report.steps["trigger"] = time.monotonic()
    report.trigger_lock_seconds = with_lock_retries(lambda: _install_trigger(connection, names))
    report.steps["copy"] = copy_started = time.monotonic()
    report.rows_copied = _copy_rows(connection, names, batch_rows, on_batch)
    report.copy_seconds = time.monotonic() - copy_started
    report.steps["swap"] = time.monotonic()
    report.swap_lock_seconds = with_lock_retries(lambda: _swap(connection, names))
    report.steps["check"] = time.monotonic()
    _verify_and_drop_old(connection, names, report)
    report.steps["done"] = time.monotonic()
    report.converted = True
    report.total_seconds = time.monotonic() - started
    return report


def _exists(connection: BaseDatabaseWrapper, relation: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [relation])
        row = cursor.fetchone()
    return bool(row and row[0])


def _drop_leftovers(connection: BaseDatabaseWrapper, names: _Names) -> None:
    """What a conversion stopped before its swap left: the journal itself is untouched."""
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {quote(names.trigger)} ON {quote(names.table)}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {quote(names.trigger)}()")
        cursor.execute(f"DROP TABLE IF EXISTS {quote(names.new)} CASCADE")
        cursor.execute(f"DROP SEQUENCE IF EXISTS {quote(names.new_sequence)}")


def _months_to_create(
    connection: BaseDatabaseWrapper, table: str, today: date, months_ahead: int
) -> list[date]:
    """Every month from the oldest row's to ``months_ahead`` after this one."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(created_at) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        row = cursor.fetchone()
    this_month = first_of_month(today)
    oldest = first_of_month(row[0]) if row and row[0] else this_month
    first = min(oldest, this_month)
    last = add_months(this_month, months_ahead)
    months = [first]
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    return months


def _index_definitions(connection: BaseDatabaseWrapper, table: str) -> list[tuple[str, str]]:
    """(name, ``USING ...`` clause) of each index of the table but its primary key."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = to_regclass(%s) AND NOT x.indisprimary ORDER BY i.relname",
            [table],
        )
        rows = cursor.fetchall()
    definitions = []
    for name, definition in rows:
        match = _INDEX_DEF.match(definition)
        if not match:  # a unique index would need created_at in it: stop, do not drop it
            raise RuntimeError(f"index {name} cannot be carried over: {definition}")
        definitions.append((name, match[3]))
    return definitions


def _temporary_index_name(name: str) -> str:
    return f"{name[:55]}_part"


def _create_partitioned(connection: BaseDatabaseWrapper, names: _Names, months: list[date]) -> None:
    quote = connection.ops.quote_name
    table, new = quote(names.table), quote(names.new)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING STORAGE) PARTITION BY RANGE (created_at)"
        )
        cursor.execute(f"CREATE SEQUENCE {quote(names.new_sequence)} OWNED BY {new}.id")
        cursor.execute(
            f"ALTER TABLE {new} ALTER COLUMN id SET DEFAULT "
            f"nextval('{quote(names.new_sequence)}'::regclass)"
        )
        cursor.execute(
            f"ALTER TABLE {new} ADD CONSTRAINT {quote(names.new + '_pkey')} "
            "PRIMARY KEY (id, created_at)"
        )
        # Indexes before the rows: the copy keeps them up to date batch by batch, where
        # building them afterwards would block the trigger's INSERTs (and so the journal's).
        for name, using in _index_definitions(connection, names.table):
            cursor.execute(f"CREATE INDEX {quote(_temporary_index_name(name))} ON {new} {using}")
        for month in months:
            start, end = month_bounds(month)
            cursor.execute(
                f"CREATE TABLE {quote(partition_name(month, names.table))} PARTITION OF {new} "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        cursor.execute(
            f"CREATE TABLE {quote(default_partition_name(names.table))} PARTITION OF {new} DEFAULT"
        )


def _install_trigger(connection: BaseDatabaseWrapper, names: _Names) -> float:
    """The trigger that copies new journal rows; the seconds its lock was held."""
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(  # only quoted names are interpolated, here and below
            f"CREATE OR REPLACE FUNCTION {quote(names.trigger)}() RETURNS trigger "  # noqa: S608
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {quote(names.new)} VALUES (NEW.*) ON CONFLICT DO NOTHING; "
            "RETURN NULL; END $$"
        )
        cursor.execute(f"LOCK TABLE {quote(names.table)} IN SHARE ROW EXCLUSIVE MODE")
        locked = time.monotonic()
        cursor.execute(
            f"CREATE TRIGGER {quote(names.trigger)} AFTER INSERT ON {quote(names.table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {quote(names.trigger)}()"
        )
    return time.monotonic() - locked


def _copy_rows(
    connection: BaseDatabaseWrapper, names: _Names, batch_rows: int, on_batch: OnBatch | None
) -> int:
    """Copy the rows that were there before the trigger, in batches of consecutive ids."""
    quote = connection.ops.quote_name
    table, new = quote(names.table), quote(names.new)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id), count(*) FROM {table}")  # noqa: S608
        low, high, total = cursor.fetchone() or (None, None, 0)
    if low is None:
        return 0
    copied = 0
    after = low - 1
    while after < high:
        upto = min(after + batch_rows, high)
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {new} SELECT * FROM {table} "  # noqa: S608
                "WHERE id > %s AND id <= %s ON CONFLICT DO NOTHING",
                [after, upto],
            )
            copied += max(cursor.rowcount, 0)
        after = upto
        if on_batch is not None:
            on_batch(copied, total)
    return copied


def _swap(connection: BaseDatabaseWrapper, names: _Names) -> float:
    """Give the partitioned table the journal's name; the seconds the exclusive lock was held."""
    quote = connection.ops.quote_name
    table, new = quote(names.table), quote(names.new)
    old_indexes = [name for name, _ in _index_definitions(connection, names.table)]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [names.table])
        (old_sequence,) = cursor.fetchone() or (None,)
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p'",
            [names.table],
        )
        (old_key,) = cursor.fetchone() or ("",)
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        locked = time.monotonic()
        last_id = f"(SELECT coalesce(max(id), 0) FROM {table})"  # noqa: S608
        if old_sequence:  # (the name PostgreSQL gave, quoted as needed)
            last_id = f"GREATEST((SELECT last_value FROM {old_sequence}), {last_id})"  # noqa: S608
        cursor.execute(f"SELECT setval('{quote(names.new_sequence)}', GREATEST({last_id}, 1))")
        cursor.execute(f"DROP TRIGGER {quote(names.trigger)} ON {table}")
        cursor.execute(f"ALTER TABLE {table} RENAME TO {quote(names.old)}")
        cursor.execute(
            f"ALTER TABLE {quote(names.old)} RENAME CONSTRAINT {quote(str(old_key))} "
            f"TO {quote(names.old + '_pkey')}"
        )
        for name in old_indexes:
            cursor.execute(f"ALTER INDEX {quote(name)} RENAME TO {quote(name[:52] + '_unpart')}")
            cursor.execute(
                f"ALTER INDEX {quote(_temporary_index_name(name))} RENAME TO {quote(name)}"
            )
        cursor.execute(f"ALTER TABLE {new} RENAME TO {table}")
        cursor.execute(
            f"ALTER TABLE {table} RENAME CONSTRAINT {quote(names.new + '_pkey')} "
            f"TO {quote(names.table + '_pkey')}"
        )
        cursor.execute(f"DROP FUNCTION {quote(names.trigger)}()")
    return time.monotonic() - locked


def _verify_and_drop_old(
    connection: BaseDatabaseWrapper, names: _Names, report: ConversionReport
) -> None:
    """Check every old row is in the journal (copying any that is not), then drop the old table.

    The old table takes no more writes, so this needs no lock the providers wait for.
    """
    quote = connection.ops.quote_name
    table, old = quote(names.table), quote(names.old)
    started = time.monotonic()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} SELECT * FROM {old} o WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {table} n WHERE n.id = o.id AND n.created_at = o.created_at) "
            "ON CONFLICT DO NOTHING"
        )
        report.rows_recopied = max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {old}")
        cursor.execute(
            f"ALTER SEQUENCE {quote(names.new_sequence)} RENAME TO {quote(names.sequence)}"
        )
    report.verify_seconds = time.monotonic() - started
