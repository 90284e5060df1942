from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from journal.partitions import MONTHS_AHEAD, ensure_months_ahead, is_partitioned


class Command(BaseCommand):
    help = (
        "Create the journal's monthly partitions for this month and the coming ones (PostgreSQL; "
        "nothing to do on SQLite). Safe to run at any time: run it daily from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ahead",
            type=int,
            default=MONTHS_AHEAD,
            help=f"months after this one to create (default {MONTHS_AHEAD})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not is_partitioned(connection):
            self.stdout.write(
                "journal_partitions: the journal is not partitioned here: nothing to do"
            )
            return
        created = ensure_months_ahead(connection, timezone.now().date(), options["ahead"])
        for month in created:
            self.stdout.write(f"{month:%Y-%m}: partition created")
        self.stdout.write(f"journal_partitions: {len(created)} created")
