"""Drive a running server with real provider requests and measure it (``bench.loadtest``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.loadtest.run import LoadTestFailed, Options, execute
from bench.loadtest.scenarios import DEBIT_PROVIDERS, PROVIDERS, SCENARIOS


class Command(BaseCommand):
    help = (
        "Seed players and bets in PostgreSQL, send real (encrypted or signed) provider requests "
        "to a running server, print requests/s, latency percentiles and errors, verify the "
        "database, measure the raw-SQL ceiling and run check_ledger. Start the server first "
        "(python -m backoffice.serve) with the same "
        "DATABASE_URL and provider keys. Exits non-zero when anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--scenario", choices=SCENARIOS, default="cancel-storm")
        parser.add_argument(
            "--providers",
            default="",
            help="comma-separated, default all four (retry-storm: jdb,naga,buffalo)",
        )
        parser.add_argument(
            "--bets", type=int, default=0, help="bets (flows), default 10000 (retry-storm 100000)"
        )
        parser.add_argument("--players", type=int, default=0, help="default bets / 10, >= 1000")
        parser.add_argument(
            "--concurrency", type=int, default=0, help="connections, default 16 (retry-storm 64)"
        )
        parser.add_argument(
            "--repeat", type=float, default=0.1, help="share of cancels sent twice (cancel-storm)"
        )
        parser.add_argument("--no-ceiling", action="store_true", help="skip the raw-SQL ceiling")
        parser.add_argument("--ceiling-bets", type=int, default=0)
        parser.add_argument("--warmup", type=int, default=200, help="balance calls before")
        parser.add_argument("--max-seconds", type=float, default=900.0)
        parser.add_argument("--seed", type=int, default=1, help="shuffle seed")
        parser.add_argument(
            "--db-stats",
            action="store_true",
            help="also report pg_stat_database counters per request (commits, rows; +22 s)",
        )
        parser.add_argument("--json", type=Path, help="also write every figure to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        scenario = options["scenario"]
        storm = scenario == "retry-storm"
        default_providers = DEBIT_PROVIDERS if storm else PROVIDERS
        providers = tuple(p for p in options["providers"].split(",") if p) or default_providers
        unknown = set(providers) - set(PROVIDERS)
        if unknown:
            raise CommandError(f"unknown providers: {', '.join(sorted(unknown))}")
        bets = options["bets"] or (100_000 if storm else 10_000)
        run_options = Options(
            base_url=options["base_url"],
            scenario=scenario,
            providers=providers,
            bets=bets,
            players=options["players"] or max(1000, bets // 10),
            concurrency=options["concurrency"] or (64 if storm else 16),
            repeat=options["repeat"],
            ceiling=not options["no_ceiling"],
            ceiling_bets=options["ceiling_bets"],
            warmup=options["warmup"],
            max_seconds=options["max_seconds"],
            seed=options["seed"],
            database_stats=options["db_stats"],
        )
        try:
            report = execute(run_options, self.stdout.write, stream=self.stderr)
        except LoadTestFailed as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            options["json"].write_text(json.dumps(report, indent=2, default=str))
        if not report["ok"]:
            raise CommandError("the run found errors or inconsistencies (see above)")
