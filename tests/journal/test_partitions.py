"""The journal partitioned by month on PostgreSQL (issue 28): the migration's conversion while
rows keep arriving, the months created ahead, a missed month's rows moved out of DEFAULT."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from journal.conversion import convert
from journal.models import JournalEntry
from journal.partitions import (
    add_months,
    create_month,
    ensure_months_ahead,
    first_of_month,
    is_partitioned,
    partition_name,
    partitions,
)
from tests.helpers import requires_postgres

pytestmark = [requires_postgres]

INSERT = (
    "INSERT INTO providers_journalentry (created_at, direction, provider, action, path, "
    "request_id, headers, payload, body_bytes, http_status, latency_us, outcome, error, bet_key, "
    "account_id, is_cancel, signature_form) VALUES (%s, 'in', 'jdb', 'bet', '/p', %s, "
    "'{\"h\": \"v\"}', %s, 12, 200, 5, 'ok', '', %s, 'alice', false, '') RETURNING id"
)


def where(entry_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM providers_journalentry WHERE id = %s", [entry_id]
        )
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_the_migrated_journal_is_partitioned_with_its_indexes_and_key() -> None:
    assert is_partitioned(connection)
    this_month = first_of_month(timezone.now())
    found = partitions(connection)
    assert found.has_default
    assert {add_months(this_month, n) for n in range(4)} <= set(found.months)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'providers_journalentry'::regclass"
        )
        indexes = dict(cursor.fetchall())
    assert "(id, created_at)" in indexes["providers_journalentry_pkey"]
    assert "(provider, bet_key)" in indexes["journal_bet"]
    assert "WHERE (is_cancel AND" in indexes["journal_cancel_retry"]
    assert {
        "journal_provider_time",
        "journal_time",
        "journal_player",
        "journal_request",
        "journal_auth_failures",
    } <= set(indexes)
    entry = JournalEntry.objects.create(provider="jdb", request_id="r-1")
    assert where(entry.pk) == partition_name(first_of_month(entry.created_at))


@pytest.mark.django_db
def test_months_are_created_ahead_and_a_row_never_lacks_a_partition() -> None:
    far = date(2031, 5, 17)
    stray_time = datetime(2031, 9, 3, 12, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [stray_time, "stray", None, "b-stray"])
        (stray,) = cursor.fetchone()
    assert where(stray) == "providers_journalentry_default"  # no partition yet: not refused

    created = ensure_months_ahead(connection, far, ahead=3)
    assert created == [date(2031, 5, 1), date(2031, 6, 1), date(2031, 7, 1), date(2031, 8, 1)]
    assert ensure_months_ahead(connection, far, ahead=3) == []  # idempotent (cron runs daily)
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [datetime(2031, 6, 30, 23, 59, tzinfo=UTC), "june", None, "b-j"])
        (june,) = cursor.fetchone()
    assert where(june) == "providers_journalentry_p2031_06"

    # A month cron missed: its rows, in DEFAULT, move into the new partition.
    create_month(connection, date(2031, 9, 1))
    assert where(stray) == "providers_journalentry_p2031_09"
    assert JournalEntry.objects.get(pk=stray).bet_key == "b-stray"


@pytest.mark.django_db
def test_the_command_creates_the_coming_months(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("journal_partitions", "--ahead", "6")
    this_month = first_of_month(timezone.now())
    assert {add_months(this_month, n) for n in range(7)} <= set(partitions(connection).months)
    assert "journal_partitions: 3 created" in capsys.readouterr().out


# --- the conversion, on a copy of today's unpartitioned journal in a schema of its own ---------

SCHEMA = "journal_conversion_test"


def _use_schema(alias: str = "default") -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SET search_path TO {SCHEMA}, public")


@pytest.fixture
def unpartitioned(transactional_db: None) -> Iterator[None]:
    """The journal as migration journal 0001 left it (unpartitioned, all its indexes)."""
    model = (
        MigrationLoader(connection)
        .project_state(("journal", "0001_initial"))
        .apps.get_model("journal", "JournalEntry")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
    _use_schema()
    try:
        with connection.schema_editor() as editor:
            editor.create_model(model)
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET search_path TO public")
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def _rows_text() -> dict[int, str]:
    """Every column of every row, as PostgreSQL writes them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT t.id, t::text FROM providers_journalentry t")
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_conversion_keeps_every_row_and_every_insert_made_meanwhile(
    unpartitioned: None,
) -> None:
    now = timezone.now()
    with connection.cursor() as cursor:
        for n in range(3000):
            created = now - timedelta(days=n % 100, minutes=n)
            payload = f'{{"amount": 1.10, "n": {n}, "text": "ü\\u00e9"}}' if n % 3 else None
            cursor.execute(INSERT, [created, f"seed-{n}", payload, f"bet-{n % 50}"])
    before = _rows_text()

    stop = threading.Event()
    written: list[list[int]] = [[], []]
    failures: list[BaseException] = []

    def writer(index: int, prepared: bool) -> None:
        try:
            _use_schema()
            # One writer as the hot path does it: a statement prepared once, run again and
            # again (PostgreSQL looks its table up again after the rename).
            raw = connection.connection
            while not stop.is_set():
                params = [timezone.now(), f"live-{index}-{len(written[index])}", None, "live"]
                if prepared:
                    with raw.cursor() as cursor:
                        cursor.execute(INSERT, params, prepare=True)
                        written[index].append(cursor.fetchone()[0])
                    raw.commit()
                else:
                    with connection.cursor() as cursor:
                        cursor.execute(INSERT, params)
                        written[index].append(cursor.fetchone()[0])
        except BaseException as exc:  # reported by the test
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i, i == 1)) for i in range(2)]
    for thread in threads:
        thread.start()
    batches: list[int] = []
    try:
        report = convert(
            connection,
            now.date(),
            batch_rows=250,
            on_batch=lambda copied, total: batches.append(copied),
        )
        # Rows keep arriving after the swap, into the partitioned table.
        threading.Event().wait(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert failures == []
    assert report.converted and report.rows_copied >= 3000 and len(batches) >= 12
    assert report.swap_lock_seconds < 1
    assert is_partitioned(connection)
    after = _rows_text()
    # Every row from before, every column the same; every row written meanwhile is there.
    assert {k: after[k] for k in before} == before
    live = [entry_id for ids in written for entry_id in ids]
    assert len(live) > 0 and set(live) <= set(after)
    assert len(after) == len(before) + len(live)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%%unpartitioned%%'")
        assert cursor.fetchone()[0] == 0  # the old table is gone
        cursor.execute(INSERT, [timezone.now(), "after", None, "after"])
        assert cursor.fetchone()[0] > max(after)  # the sequence went on from the old one
    oldest = first_of_month(now - timedelta(days=99, minutes=2999))
    months = partitions(connection).months
    assert months[0] == oldest and months[-1] == add_months(first_of_month(now), 3)
    assert convert(connection, now.date()).converted is False  # a second run does nothing
