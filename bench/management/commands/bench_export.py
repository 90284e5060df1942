"""Benchmark the finance transaction export on PostgreSQL with a million money movements.

Runs in a throwaway database (created, migrated, filled with ``generate_series``, dropped at
the end), so neither the real ledger nor its append-only trigger is touched. The rows are a
consistent ledger (``check_ledger`` passes with ``--check``): one deposit per wallet, then
settled bet-and-settle rounds of 6-decimal stakes and wins, balances carried row by row.

The export goes through the real code path: the admin view, ``StreamingHttpResponse``, the
export's ``COPY`` and its CRLF chunks. Printed: rows per second, time to first byte and to the
first data row, the process's resident memory while streaming, and, in the same run, the ceiling:
PostgreSQL's own ``COPY`` of the very statement the export runs (``copy_statement``, one query
builder for both), the client only counting bytes. Then the daily summary (``daily_summary``, what
the admin page, the CSV and the operator API show), over every day loaded and over the last day
alone, each timed ``--summary-runs`` times, with the database's CPU time when it runs on this
machine (wall-clock time on a shared machine follows its neighbours; CPU time much less).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import resolve, reverse

from monitoring.progress import progress
from wallet.reconciliation.filters import ReconciliationFilter
from wallet.reconciliation.summary import daily_summary
from wallet.reconciliation.transactions import COPY_SETTINGS, copy_statement

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 30  # the rounds are spread evenly over this many UTC days from START (--days)
OPENING_BALANCE = 1_000_000

# Ids are set explicitly (a fresh database), so row order and balances are known in advance.
LOAD_SQL = [
    """
    INSERT INTO wallet_player (id, account_id, status, created_at)
    SELECT g, 'bench-' || g, 'active', %(start)s FROM generate_series(1, %(players)s) g
    """,
    """
    INSERT INTO wallet_wallet (id, player_id, currency, balance, updated_at)
    SELECT g, g, 'USD', 0, %(start)s FROM generate_series(1, %(players)s) g
    """,
    """
    INSERT INTO wallet_bet (
        id, provider, bet_key, round_id, game_code, kind, player_id, wallet_id, currency,
        stake, win, state, open_tx_id, open_outcome, cancel_outcome, more_settles_expected,
        needs_review, review_reason, details, created_at, updated_at, settled_at)
    SELECT b, (ARRAY['jdb', 'vp', 'naga', 'buffalo'])[b %% 4 + 1],
           'bench-bet-' || b, 'bench-round-' || b, 'bench-game', 'bet_and_settle',
           (b - 1) %% %(players)s + 1, (b - 1) %% %(players)s + 1, 'USD',
           ((b::bigint * 7919) %% 9999999 + 1) / 1000000.0,
           CASE WHEN b %% 2 = 0 THEN ((b::bigint * 104729) %% 19999999) / 1000000.0 ELSE 0 END,
           'settled', 'bench-tx-' || b, 'ok', '', false, false, '', '{}',
           t, t, t
    FROM (
        SELECT b, %(start)s::timestamptz + (b::bigint * %(spacing)s) * interval '1 microsecond' AS t
        FROM generate_series(1, %(bets)s) b
    ) s
    """,
    """
    INSERT INTO wallet_ledgerentry (
        id, wallet_id, bet_id, kind, amount, balance_after, provider, provider_tx_id,
        staff_user_id, reason, created_at)
    SELECT id, wallet_id, bet_id, kind, amount,
           SUM(amount) OVER (PARTITION BY wallet_id ORDER BY id), provider, tx, NULL, reason, t
    FROM (
        SELECT g AS id, g AS wallet_id, NULL::bigint AS bet_id, 'deposit' AS kind,
               %(opening)s::numeric AS amount, '' AS provider, '' AS tx,
               'bench opening balance' AS reason, %(start)s::timestamptz AS t
        FROM generate_series(1, %(players)s) g
        UNION ALL
        SELECT %(players)s + 2 * id - 1, wallet_id, id, 'stake', -stake, provider, open_tx_id,
               '', created_at
        FROM wallet_bet
        UNION ALL
        SELECT %(players)s + 2 * id, wallet_id, id, 'win', win, provider, open_tx_id,
               '', created_at + interval '1 microsecond'
        FROM wallet_bet
    ) movements
    ORDER BY wallet_id, id
    """,
    """
    UPDATE wallet_wallet w SET balance = totals.balance
    FROM (SELECT wallet_id, SUM(amount) AS balance FROM wallet_ledgerentry GROUP BY wallet_id)
         totals
    WHERE totals.wallet_id = w.id
    """,
    "SELECT setval('wallet_player_id_seq', %(players)s)",
    "SELECT setval('wallet_wallet_id_seq', %(players)s)",
    "SELECT setval('wallet_bet_id_seq', %(bets)s)",
    "SELECT setval('wallet_ledgerentry_id_seq', %(players)s + 2 * %(bets)s)",
    # VACUUM as well: autovacuum does it to an insert-only ledger in production (PostgreSQL 13+),
    # and index-only scans (the summary's first closes) need the pages marked all-visible.
    "VACUUM ANALYZE",
]


def _status_kib(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` figure of this process from /proc, in KiB (0 when unavailable)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _backend_cpu_reader() -> Callable[[], float] | None:
    """A reader of this connection's PostgreSQL server process's CPU seconds (user + system),
    from /proc: only when the server runs on this machine and its process is readable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    path = f"/proc/{row[0]}/stat" if row else ""
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    try:
        read()
    except (OSError, IndexError, ValueError):
        return None
    return read


def _reset_peak_rss() -> bool:
    """Restart the kernel's peak-RSS counter for this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


class Command(BaseCommand):
    help = "PostgreSQL only: load 1,000,000 movements into a scratch database and time the export."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows to load")
        parser.add_argument("--players", type=int, default=1000)
        parser.add_argument(
            "--days", type=int, default=DAYS, help=f"UTC days the rounds span (default {DAYS})"
        )
        parser.add_argument(
            "--summary-runs", type=int, default=3, help="times each daily summary is run"
        )
        parser.add_argument(
            "--database", default="", help="scratch database name (default: <NAME>_bench)"
        )
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        parser.add_argument(
            "--check",
            action="store_true",
            help="also run check_ledger and verify_ledger on the loaded rows",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_export needs PostgreSQL: set DATABASE_URL=postgres://...")
        players = options["players"]
        bets = (options["rows"] - players) // 2
        if bets < 1:
            raise CommandError("--rows must exceed --players")
        if options["days"] < 1 or options["summary_runs"] < 1:
            raise CommandError("--days and --summary-runs must be at least 1")
        self.days, self.summary_runs = options["days"], options["summary_runs"]
        scratch = options["database"] or f"{connection.settings_dict['NAME']}_bench"
        with self._scratch_database(scratch, keep=options["keep"]):
            self._load(players, bets)
            if options["check"]:
                self._check()
            self._measure(players + 2 * bets)

    # --- the throwaway database ------------------------------------------------------------------

    @contextmanager
    def _scratch_database(self, name: str, *, keep: bool) -> Iterator[None]:
        quoted = connection.ops.quote_name(name)
        original = connection.settings_dict["NAME"]
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {quoted}")
        connection.close()
        connection.settings_dict["NAME"] = name
        try:
            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            self._line(f"scratch database {name} migrated in {time.perf_counter() - started:.1f} s")
            yield
        finally:
            connection.close()
            connection.settings_dict["NAME"] = original
            if not keep:
                with connection._nodb_cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
                self._line(f"scratch database {name} dropped")

    def _load(self, players: int, bets: int) -> None:
        params: dict[str, Any] = {
            "players": players,
            "bets": bets,
            "start": START,
            "opening": OPENING_BALANCE,
            "spacing": self.days * 86_400_000_000 // bets,
        }
        started = time.perf_counter()
        with connection.cursor() as cursor:
            fast = self._skip_row_triggers(cursor)
            try:
                for statement in progress(
                    LOAD_SQL, desc="loading", unit="statement", stream=self.stderr
                ):
                    cursor.execute(statement, params)
            finally:
                if fast:
                    cursor.execute("SET session_replication_role = DEFAULT")
        total = players + 2 * bets
        self._line(
            f"loaded {total:,} movements ({players:,} deposits, {bets:,} rounds of stake + win "
            f"over {self.days} UTC days) in {time.perf_counter() - started:.1f} s"
        )

    def _skip_row_triggers(self, cursor: Any) -> bool:
        """Skip per-row foreign-key triggers while loading (superuser only): the rows are
        consistent by construction, and ``--check`` verifies them. Much faster to load. The
        ledger's chain trigger still fires (ENABLE ALWAYS, in this scratch database only): the
        rows are inserted in (wallet, id) order, so each is chained to the one before it as a
        real movement would be, and ``verify_ledger`` finds the ledger whole."""
        try:
            cursor.execute("SET session_replication_role = replica")
        except DatabaseError:
            self._line("(not a superuser: loading with foreign-key triggers, slower)")
            return False
        cursor.execute("ALTER TABLE wallet_ledgerentry ENABLE ALWAYS TRIGGER wallet_ledger_chain")
        return True

    def _check(self) -> None:
        from wallet.chain import chain_key
        from wallet.chain_verify import verify_chains
        from wallet.consistency import check_ledger

        started = time.perf_counter()
        report = check_ledger()
        verdict = "consistent" if report.ok else f"{len(report.problems)} problems"
        self._line(
            f"check_ledger: {verdict} ({report.wallets_checked:,} wallets, "
            f"{report.bets_checked:,} bets) in {time.perf_counter() - started:.1f} s"
        )
        if not report.ok:
            raise CommandError(str(report.problems[0]))
        started = time.perf_counter()
        chains = verify_chains(chain_key())
        verdict = "whole" if chains.ok else f"{len(chains.broken)} broken"
        self._line(
            f"verify_ledger: chains {verdict} ({chains.ledger_rows:,} rows in "
            f"{chains.wallets:,} wallets) in {time.perf_counter() - started:.1f} s"
        )
        if not chains.ok:
            raise CommandError(str(chains.broken[0]))

    # --- the measurements ----------------------------------------------------------------------

    def _measure(self, expected_rows: int) -> None:
        export = self._time_export(expected_rows)
        copy_seconds, copy_bytes = self._time_copy()
        last_day = (START + timedelta(days=self.days - 1)).date()
        summaries = [
            (
                f"daily summary, {self.days} day{'s' if self.days > 1 else ''}",
                self._time_summary(ReconciliationFilter()),
            ),
            (
                f"daily summary, {last_day}",
                self._time_summary(ReconciliationFilter(date_from=last_day, date_to=last_day)),
            ),
        ]
        rows, seconds = export["rows"], export["seconds"]
        self._line("")
        self._line(f"export rows                 {rows:,} ({export['bytes'] / 1e6:,.1f} MB CSV)")
        self._line(f"export time                 {seconds:.2f} s")
        self._line(f"export rows per second      {rows / seconds:,.0f}")
        self._line(f"time to first byte          {export['first_byte'] * 1000:.1f} ms (header)")
        self._line(f"time to first data row      {export['first_row'] * 1000:.1f} ms")
        self._line(f"RSS before the export       {export['rss_before'] / 1024:,.1f} MiB")
        self._line(f"RSS while streaming         {export['rss_samples']}")
        self._line(
            f"peak RSS during the export  {export['peak'] / 1024:,.1f} MiB "
            f"(+{(export['peak'] - export['rss_before']) / 1024:,.1f}){export['note']}"
        )
        self._line(f"ru_maxrss (whole run)       {export['maxrss'] / 1024:,.1f} MiB")
        self._line(
            f"COPY ... TO STDOUT ceiling  {copy_seconds:.2f} s, {rows / copy_seconds:,.0f} rows/s "
            f"({copy_bytes / 1e6:,.1f} MB)"
        )
        self._line(
            f"export vs COPY              {copy_seconds / seconds:.0%} of COPY's rows/s "
            f"({seconds / copy_seconds:.2f}x its time)"
        )
        for label, (runs, cpu, summary_rows) in summaries:
            cpu_text = f", database CPU {min(cpu):.2f} s" if cpu else ""
            self._line(
                f"{label:<28}{min(runs):.2f} s ({summary_rows} rows; runs "
                f"{' / '.join(f'{run:.2f}' for run in runs)} s{cpu_text})"
            )

    def _time_export(self, expected_rows: int) -> dict[str, Any]:
        """Stream the export through the admin view as a browser download would."""
        request = RequestFactory().get(reverse("admin:finance_export"), {"download": "1"})
        # An unsaved superuser: the permission checks run, no row is written. Signed in fully:
        # its second factor passed, as django-otp's middleware marks a session that typed a code.
        user = get_user_model()(username="bench", is_staff=True, is_superuser=True)
        user.is_verified = lambda: True  # type: ignore[attr-defined]
        request.user = user
        view = resolve(request.path).func
        rss_before = _status_kib("VmRSS")
        peak_reset = _reset_peak_rss()
        started = time.perf_counter()
        response = view(request)
        assert response.streaming, "the export must be a StreamingHttpResponse"
        first_byte = first_row = 0.0
        total_bytes = newlines = 0
        samples: list[str] = []
        next_sample = expected_rows // 5
        highest_rss = rss_before
        for chunk in response.streaming_content:
            now = time.perf_counter() - started
            if not first_byte:
                first_byte = now
            newlines += chunk.count(b"\r\n")
            if not first_row and newlines > 1:
                first_row = now
            total_bytes += len(chunk)
            # Sampled at every ~64 KB chunk: the kernel's VmHWM is only updated lazily.
            rss = _status_kib("VmRSS")
            highest_rss = max(highest_rss, rss)
            if newlines - 1 >= next_sample:
                samples.append(f"{rss / 1024:.1f}")
                next_sample += expected_rows // 5
        seconds = time.perf_counter() - started
        response.close()
        rows = newlines - 1
        if rows != expected_rows:
            raise CommandError(f"exported {rows} rows, expected {expected_rows}")
        return {
            "rows": rows,
            "bytes": total_bytes,
            "seconds": seconds,
            "first_byte": first_byte,
            "first_row": first_row,
            "rss_before": rss_before,
            "rss_samples": " / ".join(samples) + " MiB (at each fifth of the rows)",
            "peak": max(highest_rss, _status_kib("VmHWM")),
            "note": "" if peak_reset else " (peak counter not resettable: lifetime peak)",
            "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }

    def _time_copy(self) -> tuple[float, int]:
        """PostgreSQL writing the very same query as CSV, the client only counting bytes."""
        statement, params = copy_statement(ReconciliationFilter())
        started = time.perf_counter()
        copied = 0
        with transaction.atomic(), connection.connection.cursor() as cursor:
            for setting in COPY_SETTINGS:  # the export's own plan
                cursor.execute(setting)
            with cursor.copy(statement, params) as copy:
                for data in copy:
                    copied += len(data)
        return time.perf_counter() - started, copied

    def _time_summary(
        self, selection: ReconciliationFilter
    ) -> tuple[list[float], list[float], int]:
        """Seconds of each run, the database's CPU seconds of each (none when its process is
        not on this machine), and the number of rows."""
        runs: list[float] = []
        cpu: list[float] = []
        backend_cpu = _backend_cpu_reader()
        rows = 0
        for _ in range(self.summary_runs):
            cpu_before = backend_cpu() if backend_cpu else 0.0
            started = time.perf_counter()
            rows = len(daily_summary(selection))
            runs.append(time.perf_counter() - started)
            if backend_cpu:
                cpu.append(backend_cpu() - cpu_before)
        return runs, cpu, rows

    def _line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
