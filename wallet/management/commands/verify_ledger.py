"""``manage.py verify_ledger``: recompute the ledger's and the staff audit's hash chains and,
with ``--digest DAY=HEX``, the daily digests kept outside the database (docs/ledger-chain.md).
Exits non-zero on any broken link or digest mismatch."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.progress import progress, to_running_total
from wallet.chain import chain_key
from wallet.chain_verify import day_digest, verify_chains
from wallet.models import AuditEntry, LedgerEntry


def _digest_argument(text: str) -> tuple[date, str]:
    day, _, digest = text.partition("=")
    try:
        return date.fromisoformat(day), digest.strip().lower()
    except ValueError as exc:
        raise ValueError(f"expected YYYY-MM-DD=<sha-256 hex>, got {text!r}") from exc


class Command(BaseCommand):
    help = (
        "Recompute every wallet's ledger chain and the staff audit chain with LEDGER_CHAIN_KEY; "
        "report each chain's first broken link. --digest DAY=HEX also checks a day's digest "
        "(the daily summary's chain_digest). Exits non-zero on any mismatch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--digest",
            action="append",
            default=[],
            type=_digest_argument,
            metavar="DAY=HEX",
            help="a day's chain digest as kept outside the database (repeatable)",
        )
        parser.add_argument(
            "--digests-only", action="store_true", help="check the --digest values only"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        if not options["digests_only"]:
            started = time.monotonic()
            with progress(desc="verifying", unit=" rows", stream=self.stderr) as bar:
                if not bar.disable:  # counted for the bar's ETA only: cron pays nothing for it
                    bar.total = LedgerEntry.objects.count() + AuditEntry.objects.count()
                    bar.refresh()
                report = verify_chains(chain_key(), on_rows=to_running_total(bar))
            problems += [f"BROKEN {link}" for link in report.broken]
            self.stdout.write(
                f"verify_ledger: {report.ledger_rows} ledger rows in {report.wallets} wallets, "
                f"{report.audit_rows} audit rows, {len(report.broken)} broken chains "
                f"({time.monotonic() - started:.1f} s)"
            )
        for day, expected in options["digest"]:
            actual = day_digest(day)
            if actual == expected:
                self.stdout.write(f"digest {day.isoformat()}: ok")
            else:
                problems.append(f"DIGEST {day.isoformat()}: expected {expected}, found {actual}")
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"verify_ledger: {len(problems)} problems")
