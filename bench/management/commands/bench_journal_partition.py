"""Benchmark the journal's conversion to monthly partitions, and archiving one month.

Creates a throwaway database (``bo_bench_journal``), migrates it, puts back the journal as it
was before partitioning (the model of migration ``journal`` 0001: one table, all its indexes),
fills it with ``--rows`` rows spread over twelve months (``generate_series``), then runs the
migration's own conversion (``journal.conversion.convert``) while ``--writers`` threads keep
inserting rows as providers would. Prints the total time, the time each lock was held, and the
writers' INSERT latencies before and during each step; checks that no row was lost. Then
archives the oldest whole month with ``journal_archive``'s code and prints its time. The
database is dropped unless ``--keep``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backoffice \\
        .venv/bin/python manage.py bench_journal_partition --rows 1000000
"""

from __future__ import annotations

import tempfile
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from journal.archive import archive_month
from journal.conversion import convert
from journal.partitions import partitions
from monitoring.progress import lines_over, progress

MONTHS = 12
BASELINE_SECONDS = 3.0
SEED_CHUNK = 200_000

# Row ``g`` of the seed: its time spread evenly over the last MONTHS months, the sizes of a
# real request (headers, a decrypted payload, an answer), one in ten a cancel.
SEED_SQL = """
INSERT INTO providers_journalentry (
    created_at, direction, provider, action, path, request_id, client_ip, headers, payload,
    body_bytes, answer, http_status, latency_us, outcome, error, bet_key, account_id, is_cancel,
    signature_form)
SELECT
    now() - (%(rows)s - g) * (interval '1 day' * 30 * %(months)s / %(rows)s),
    'in',
    (ARRAY['jdb', 'vp', 'naga', 'buffalo'])[1 + g %% 4],
    CASE WHEN g %% 10 = 0 THEN 'cancel' ELSE 'bet' END,
    '/providers/jdb/',
    'req-' || g,
    '10.1.2.3',
    jsonb_build_object('content-type', 'application/json', 'user-agent', 'provider-client/2.1',
                       'x-forwarded-for', '203.0.113.7', 'authorization', '[redacted]'),
    jsonb_build_object('action', 8, 'uid', 'player-' || (g %% 20000), 'gType', 0,
                       'mType', 8001, 'bet', -10.5, 'win', 25.25, 'historyId', 'h-' || g,
                       'ts', 1733500000000 + g),
    420,
    jsonb_build_object('status', '0000', 'balance', 1000.25, 'err_text', ''),
    200,
    800 + g %% 500,
    CASE WHEN g %% 97 = 0 THEN 'busy' ELSE 'ok' END,
    '',
    'bet-' || (g / 2),
    'player-' || (g %% 20000),
    g %% 10 = 0,
    ''
FROM generate_series(%(first)s, %(last)s) AS g
"""

WRITE_SQL = (
    "INSERT INTO providers_journalentry (created_at, direction, provider, action, path, "
    "request_id, headers, body_bytes, http_status, latency_us, outcome, error, bet_key, "
    "account_id, is_cancel, signature_form) VALUES (now(), 'in', 'jdb', 'bet', '/p', %s, '{}', "
    "0, 200, 0, 'ok', '', 'live', 'live', false, '') RETURNING id"
)


class Writers:
    """Threads inserting journal rows one by one, each on its own connection, until stopped."""

    def __init__(self, count: int) -> None:
        self.stop = threading.Event()
        self.ids: list[int] = []
        #: (when it started, ``time.monotonic()``; how long it took) of every INSERT.
        self.timings: list[tuple[float, float]] = []
        self.failures: list[BaseException] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(count)]

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(60)

    def _run(self, number: int) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(WRITE_SQL, [f"live-{number}-{n}"])
                    (entry_id,) = cursor.fetchone()
                took = time.perf_counter() - started
                with self._lock:
                    self.ids.append(entry_id)
                    self.timings.append((time.monotonic() - took, took))
                n += 1
                time.sleep(0.002)  # a steady trickle, as providers write, not a flood
        except BaseException as exc:  # reported after the run
            self.failures.append(exc)
        finally:
            connection.close()


class Command(BaseCommand):
    help = "Time the journal's conversion to monthly partitions (and one month's archive)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--writers", type=int, default=2, help="threads inserting meanwhile")
        parser.add_argument("--batch-rows", type=int, default=20_000)
        parser.add_argument("--database-name", default="bo_bench_journal")
        parser.add_argument("--keep", action="store_true", help="do not drop the database")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_journal_partition needs PostgreSQL: DATABASE_URL=...")
        original = connection.settings_dict["NAME"]
        connection.settings_dict.setdefault("TEST", {})["NAME"] = options["database_name"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self._unpartitioned_journal()
            self._seed(options["rows"])
            self._convert(options["rows"], options["writers"], options["batch_rows"])
            self._archive_oldest_month()
        finally:
            connection.creation.destroy_test_db(original, verbosity=0, keepdb=options["keep"])

    def _unpartitioned_journal(self) -> None:
        """The journal as it was before migration ``journal`` 0002."""
        model = (
            MigrationLoader(connection)
            .project_state(("journal", "0001_initial"))
            .apps.get_model("journal", "JournalEntry")
        )
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE providers_journalentry CASCADE")
        with connection.schema_editor() as editor:
            editor.create_model(model)

    def _seed(self, rows: int) -> None:
        started = time.perf_counter()
        bar = progress(desc="seeding", total=rows, unit=" rows", stream=self.stderr)
        with connection.cursor() as cursor, bar:
            for first in range(1, rows + 1, SEED_CHUNK):
                last = min(first + SEED_CHUNK - 1, rows)
                cursor.execute(
                    SEED_SQL, {"rows": rows, "months": MONTHS, "first": first, "last": last}
                )
                bar.update(last - first + 1)
                with lines_over(bar):
                    self.stdout.write(f"seeded {last:,} rows")
            cursor.execute("VACUUM ANALYZE providers_journalentry")
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('providers_journalentry'))"
            )
            (size,) = cursor.fetchone()
        self.stdout.write(
            f"seed: {rows:,} rows, {size} with indexes, {time.perf_counter() - started:.1f} s"
        )

    def _convert(self, rows: int, writers: int, batch_rows: int) -> None:
        def batch_done(copied: int, total: int) -> None:
            if copied // 100_000 != (copied - batch_rows) // 100_000 or copied >= total:
                self.stdout.write(f"copied {copied:,} of {total:,} rows")

        with Writers(writers) as live:
            time.sleep(BASELINE_SECONDS)  # the INSERTs' latency without a conversion
            report = convert(
                connection, timezone.now().date(), batch_rows=batch_rows, on_batch=batch_done
            )
            time.sleep(0.5)
        if live.failures:
            raise CommandError(f"a writer failed: {live.failures[0]!r}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM providers_journalentry")
            (count,) = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM providers_journalentry WHERE id = ANY(%s)", [live.ids]
            )
            (found,) = cursor.fetchone()
        lost = rows + len(live.ids) - count
        self.stdout.write(
            f"conversion: {report.total_seconds:.1f} s in all; copy {report.copy_seconds:.1f} s "
            f"({report.rows_copied:,} rows, {report.months} months); trigger install lock "
            f"{report.trigger_lock_seconds * 1000:.1f} ms; swap exclusive lock "
            f"{report.swap_lock_seconds * 1000:.1f} ms; check and drop of the old table "
            f"{report.verify_seconds:.1f} s ({report.rows_recopied} rows were missing)"
        )
        self.stdout.write(
            f"writers: {len(live.ids):,} rows inserted meanwhile, all {found:,} found; "
            f"rows lost: {lost}"
        )
        self._latencies(live.timings, report.steps)
        if lost or found != len(live.ids):
            raise CommandError("rows were lost")

    def _latencies(self, timings: list[tuple[float, float]], steps: dict[str, float]) -> None:
        """The writers' INSERT latency before the conversion and in each of its steps."""
        names = list(steps)
        windows = [("before", 0.0, steps[names[0]])]
        windows += [(name, steps[name], steps[after]) for name, after in pairwise(names)]
        windows.append(("after", steps[names[-1]], float("inf")))
        for name, start, end in windows:
            took = sorted(t for at, t in timings if start <= at < end)
            if not took:
                continue
            p50 = took[len(took) // 2] * 1000
            p99 = took[min(len(took) - 1, int(len(took) * 0.99))] * 1000
            self.stdout.write(
                f"  INSERTs during {name:<7} {len(took):6,}: p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, "
                f"max {took[-1] * 1000:6.1f} ms"
            )

    def _archive_oldest_month(self) -> None:
        month = partitions(connection).months[1]  # the oldest whole month of the seed
        with tempfile.TemporaryDirectory() as directory:
            done = archive_month(connection, month, Path(directory))
            size = done.path.stat().st_size / 1e6
        self.stdout.write(
            f"archive of {month:%Y-%m}: {done.rows:,} rows, {size:.1f} MB gzip, written and "
            f"verified in {done.write_seconds:.1f} s, partition dropped in "
            f"{done.drop_seconds * 1000:.0f} ms"
        )
