"""Benchmark the support admin on PostgreSQL with a million bets.

Creates a throwaway database (``bo_bench_admin``), migrates it, loads bets, ledger rows and
journal rows with ``generate_series`` (seconds, not hours), then requests the bet list, each of
its filters, the dashboard and the detail pages through the real admin views (Django's test
client, logged in) and prints p50/p95/max latencies. The database is dropped at the end unless
``--keep``; ``--reuse`` measures an existing one again without reloading.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backoffice \
        .venv/bin/python manage.py bench_admin --bets 1000000 --runs 7
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import override_settings, setup_test_environment

from monitoring.progress import lines_over, progress

TARGET_MS = 300.0
PLAYERS = 20_000
DAYS = 90

# One statement per table. Bet ``i`` (1..N) is spread over the last DAYS days in id order;
# its state, provider and flags come from ``i`` so that every filter has realistic selectivity:
#   70 % settled, 10 % cancelled, 3 % refused, 2 % tombstones (1 in 10 of them with a late bet),
#   0.5 % open and old (stuck), the newest 30 open and fresh, 0.1 % flagged for review.
LOAD_SQL = [
    """
    INSERT INTO wallet_player (account_id, status, created_at)
    SELECT 'bench_' || p, 'active', now() - interval '100 days'
    FROM generate_series(1, %(players)s) AS p
    """,
    """
    INSERT INTO wallet_wallet (player_id, currency, balance, updated_at)
    SELECT id, 'USD', 1000000, now() FROM wallet_player ORDER BY id
    """,
    """
    CREATE TEMP TABLE bench_ids AS
    SELECT (SELECT min(id) FROM wallet_wallet) AS first_wallet,
           (SELECT min(id) FROM wallet_player) AS first_player
    """,
    """
    INSERT INTO wallet_bet (
        provider, bet_key, round_id, game_code, kind, player_id, wallet_id, currency, stake, win,
        state, open_tx_id, open_outcome, cancel_outcome, more_settles_expected, late_arrival_at,
        needs_review, review_reason, details, created_at, updated_at, settled_at, cancelled_at)
    SELECT
        b.provider,
        'bet-' || b.i,
        'round-' || (b.i / 2),
        'g' || (b.i %% 50),
        CASE WHEN b.provider IN ('jdb', 'vp') AND b.i %% 3 <> 0 AND b.state = 'settled'
             THEN 'bet_and_settle' ELSE 'debit' END,
        ids.first_player + (b.i %% %(players)s),
        ids.first_wallet + (b.i %% %(players)s),
        'USD',
        (1 + b.i %% 100)::numeric,
        CASE WHEN b.state = 'settled' THEN (b.i %% 7)::numeric ELSE 0 END,
        b.state,
        'tx-' || b.i,
        CASE WHEN b.state = 'refused' THEN 'insufficient_funds'
             WHEN b.state = 'tombstone' THEN '' ELSE 'ok' END,
        CASE WHEN b.state = 'cancelled' THEN 'cancelled'
             WHEN b.state = 'tombstone' THEN 'tombstoned' ELSE '' END,
        false,
        CASE WHEN b.late THEN b.created_at + interval '2 minutes' END,
        b.late OR b.i %% 1000 = 7,
        CASE WHEN b.late THEN 'The bet arrived after its cancel.'
             WHEN b.i %% 1000 = 7 THEN 'A cancel arrived after the bet was paid out.'
             ELSE '' END,
        '{}'::jsonb,
        b.created_at,
        b.created_at,
        CASE WHEN b.state = 'settled' THEN b.created_at + interval '5 seconds' END,
        CASE WHEN b.state IN ('cancelled', 'tombstone') THEN b.created_at + interval '1 minute' END
    FROM (
        SELECT
            s.i,
            (ARRAY['jdb', 'vp', 'naga', 'buffalo'])[1 + s.i %% 4] AS provider,
            now() - (%(bets)s - s.i) * (interval '1 day' * %(days)s / %(bets)s) AS created_at,
            CASE
                WHEN s.i > %(bets)s - 30 THEN 'open'
                WHEN s.i %% 200 = 13 THEN 'open'
                WHEN s.i %% 1000 BETWEEN 700 AND 799 THEN 'cancelled'
                WHEN s.i %% 1000 BETWEEN 800 AND 829 THEN 'refused'
                WHEN s.i %% 1000 BETWEEN 830 AND 849 THEN 'tombstone'
                ELSE 'settled'
            END AS state,
            s.i %% 10000 = 830 AS late
        FROM generate_series(1, %(bets)s) AS s(i)
    ) AS b, bench_ids ids
    """,
    # Ledger: a stake for every bet that took money, a win for settled ones, a refund for
    # cancelled ones. Balances are not meaningful here; only the row counts and indexes are.
    """
    INSERT INTO wallet_ledgerentry (
        wallet_id, bet_id, kind, amount, balance_after, provider, provider_tx_id, reason,
        created_at)
    SELECT wallet_id, id, 'stake', -stake, 1000, provider, open_tx_id, '', created_at
    FROM wallet_bet WHERE state IN ('open', 'settled', 'cancelled')
    """,
    """
    INSERT INTO wallet_ledgerentry (
        wallet_id, bet_id, kind, amount, balance_after, provider, provider_tx_id, reason,
        created_at)
    SELECT wallet_id, id, 'win', win, 1000, provider, 'win-' || id, '', settled_at
    FROM wallet_bet WHERE state = 'settled'
    """,
    """
    INSERT INTO wallet_ledgerentry (
        wallet_id, bet_id, kind, amount, balance_after, provider, provider_tx_id, reason,
        created_at)
    SELECT wallet_id, id, 'refund', stake, 1000, provider, 'c-' || id, '', cancelled_at
    FROM wallet_bet WHERE state = 'cancelled'
    """,
    # Journal: the opening request of one bet in five, every cancel, a "try again" answer for
    # half of the stuck open bets and for some settled rounds whose retry then went through,
    # and authentication failures over the last three days.
    """
    INSERT INTO providers_journalentry (
        created_at, direction, provider, action, path, request_id, headers, payload,
        body_bytes, answer, http_status, latency_us, outcome, error, bet_key, account_id,
        is_cancel, signature_form)
    SELECT created_at, 'in', provider, 'bet', '/providers/' || provider || '/', 'r-' || id,
        '{}'::jsonb, jsonb_build_object('betId', bet_key), 120,
        jsonb_build_object('status', 'ok'), 200, 900, 'ok', '', bet_key,
        'bench_' || (id %% %(players)s), false, ''
    FROM wallet_bet WHERE id %% 5 = 0
    UNION ALL
    SELECT cancelled_at, 'in', provider, 'cancel', '/providers/' || provider || '/',
        'rc-' || id, '{}'::jsonb, jsonb_build_object('betId', bet_key), 120,
        jsonb_build_object('status', 'ok'), 200, 900, cancel_outcome, '', bet_key,
        'bench_' || (id %% %(players)s), true, ''
    FROM wallet_bet WHERE state IN ('cancelled', 'tombstone')
    UNION ALL
    SELECT created_at + interval '30 seconds', 'in', provider, 'cancel',
        '/providers/' || provider || '/', 'rb-' || id, '{}'::jsonb,
        jsonb_build_object('betId', bet_key), 120, jsonb_build_object('status', 'retry'), 200,
        2000000, 'busy', 'lock wait exceeded', bet_key, 'bench_' || (id %% %(players)s), true, ''
    FROM wallet_bet
    WHERE (state = 'open' AND id %% 400 = 13) OR (state = 'settled' AND id %% 3000 = 1)
    UNION ALL
    SELECT created_at + interval '90 seconds', 'in', provider, 'cancel',
        '/providers/' || provider || '/', 'rk-' || id, '{}'::jsonb,
        jsonb_build_object('betId', bet_key), 120, jsonb_build_object('status', 'kept'), 200,
        900, 'kept', '', bet_key, 'bench_' || (id %% %(players)s), true, ''
    FROM wallet_bet WHERE state = 'settled' AND id %% 6000 = 1
    UNION ALL
    SELECT now() - (s.i * interval '2 minutes'), 'in',
        (ARRAY['jdb', 'vp', 'naga', 'buffalo'])[1 + s.i %% 4], '', '/providers/', 'ra-' || s.i,
        '{}'::jsonb, NULL, 120, jsonb_build_object('status', 'auth'), 200, 300, 'auth_failed',
        'bad signature', '', '', false, ''
    FROM generate_series(1, 2000) AS s(i)
    """,
    "ANALYZE",
]


@dataclass(frozen=True)
class Measured:
    name: str
    url: str
    timings_ms: list[float]
    status: int

    @property
    def p50(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def worst(self) -> float:
        return max(self.timings_ms)


class Command(BaseCommand):
    help = "Load a million bets into a throwaway PostgreSQL database and time the support admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bets", type=int, default=1_000_000)
        parser.add_argument("--runs", type=int, default=7, help="timed requests per page")
        parser.add_argument("--database-name", default="bo_bench_admin")
        parser.add_argument("--keep", action="store_true", help="do not drop the database")
        parser.add_argument(
            "--reuse", action="store_true", help="measure an existing bench database again"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_admin needs PostgreSQL: set DATABASE_URL=postgres://...")
        name = options["database_name"]
        original = connection.settings_dict["NAME"]
        connection.settings_dict.setdefault("TEST", {})["NAME"] = name
        started = time.perf_counter()
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=options["reuse"]
        )
        try:
            if not options["reuse"]:
                self._load(options["bets"])
            self.stdout.write(f"ready in {time.perf_counter() - started:.0f} s: {self._sizes()}")
            results = self._measure(options["runs"])
            self._report(results, options["bets"], options["runs"])
        finally:
            connection.creation.destroy_test_db(original, verbosity=0, keepdb=options["keep"])
        if any(r.p95 > TARGET_MS or r.status != 200 for r in results):
            raise CommandError(f"some pages missed the {TARGET_MS:.0f} ms target (see above)")

    def _load(self, bets: int) -> None:
        params = {"bets": bets, "players": PLAYERS, "days": DAYS}
        bar = progress(desc="loading", total=len(LOAD_SQL), unit="statement", stream=self.stderr)
        with connection.cursor() as cursor, bar:
            for sql in LOAD_SQL:
                step = time.perf_counter()
                cursor.execute(sql, params)
                first_line = " ".join(sql.split())[:60]
                bar.update()  # counted before the line, so the bar redrawn under it is current
                with lines_over(bar):
                    self.stdout.write(f"  {time.perf_counter() - step:6.1f} s  {first_line}")

    def _sizes(self) -> str:
        with connection.cursor() as cursor:
            parts = []
            for table in ("wallet_bet", "wallet_ledgerentry", "providers_journalentry"):
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
                parts.append(f"{table} {cursor.fetchone()[0]:,}")
        return ", ".join(parts)

    def _pages(self) -> list[tuple[str, str]]:
        from wallet.models import Bet, Player
        from wallet.selectors import StuckReason

        bet = Bet.objects.filter(state="open").order_by("-id").first()
        flagged = Bet.objects.filter(needs_review=True).order_by("id").first()
        player = Player.objects.order_by("id").first()
        assert bet is not None and flagged is not None and player is not None
        pages = [
            ("dashboard (admin index)", "/admin/"),
            ("bet list, no filter", "/admin/wallet/bet/"),
            ("bet list, page 5", "/admin/wallet/bet/?p=5"),
        ]
        for reason in StuckReason:
            pages.append((f"stuck: {reason.value}", f"/admin/wallet/bet/?stuck={reason.value}"))
            for provider in ("jdb", "buffalo"):
                pages.append(
                    (
                        f"stuck: {reason.value} at {provider}",
                        f"/admin/wallet/bet/?stuck={reason.value}&provider__exact={provider}",
                    )
                )
        for state in ("open", "settled", "cancelled", "refused", "tombstone"):
            pages.append((f"state: {state}", f"/admin/wallet/bet/?state__exact={state}"))
        pages += [
            ("provider: naga", "/admin/wallet/bet/?provider__exact=naga"),
            ("needs review: yes", "/admin/wallet/bet/?needs_review__exact=1"),
            ("needs review: no", "/admin/wallet/bet/?needs_review__exact=0"),
            ("kind: bet and settle", "/admin/wallet/bet/?kind__exact=bet_and_settle"),
            ("kind: debit", "/admin/wallet/bet/?kind__exact=debit"),
            ("created: past 7 days", self._date_filter("created_at", days=7)),
            ("cancelled: today", self._date_filter("cancelled_at", days=1)),
            (
                "cancelled: today at jdb",
                self._date_filter("cancelled_at", 1) + "&provider__exact=jdb",
            ),
            ("search: bet key", f"/admin/wallet/bet/?q={bet.bet_key}"),
            ("search: round id", f"/admin/wallet/bet/?q={bet.round_id}"),
            ("search: account id", f"/admin/wallet/bet/?q={player.account_id}"),
            ("bet page (open, with actions)", f"/admin/wallet/bet/{bet.pk}/change/"),
            ("bet page (flagged)", f"/admin/wallet/bet/{flagged.pk}/change/"),
            ("cancel confirmation page", f"/admin/wallet/bet/{bet.pk}/cancel/"),
            ("player page", f"/admin/wallet/player/{player.pk}/change/"),
            ("player lookup", f"/admin/support/players/?account_id={player.account_id}x"),
            ("audit list", "/admin/wallet/auditentry/"),
            ("ledger list", "/admin/wallet/ledgerentry/"),
        ]
        return pages

    def _client(self, user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    @staticmethod
    def _date_filter(field: str, days: int) -> str:
        from datetime import timedelta
        from urllib.parse import urlencode

        from django.utils import timezone

        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        start = today - timedelta(days=days - 1)
        query = urlencode(
            {f"{field}__gte": str(start), f"{field}__lt": str(today + timedelta(days=1))}
        )
        return f"/admin/wallet/bet/?{query}"

    def _measure(self, runs: int) -> list[Measured]:
        setup_test_environment()
        from django.contrib.auth.models import Group

        user, _ = get_user_model().objects.get_or_create(
            username="bench_support", defaults={"is_staff": True}
        )
        user.groups.add(Group.objects.get(name="Support"))
        client = self._client(user)
        results = []
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        # The bench user has no authenticator: the pages are measured, not the sign-in (the
        # second-factor middleware still runs on every request).
        signed_in = {"STAFF_2FA_REQUIRED": False}
        with override_settings(
            ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False, DEBUG=False, **signed_in
        ):
            pages = self._pages()
            for name, url in progress(pages, desc="measuring", unit="page", stream=self.stderr):
                status = client.get(url).status_code  # warm-up: plans, caches, templates
                timings = []
                for _ in range(runs):
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                    status = response.status_code if response.status_code != 200 else status
                results.append(Measured(name, url, timings, status))
        return results

    def _report(self, results: list[Measured], bets: int, runs: int) -> None:
        self.stdout.write(
            f"\n{bets:,} bets, {runs} timed requests per page after one warm-up "
            f"(target: p95 under {TARGET_MS:.0f} ms)\n"
        )
        self.stdout.write(f"{'page':44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  status")
        for r in results:
            flag = "" if r.p95 <= TARGET_MS and r.status == 200 else "  <-- over target"
            self.stdout.write(
                f"{r.name:44} {r.p50:8.1f} {r.p95:8.1f} {r.worst:8.1f}  {r.status}{flag}"
            )
