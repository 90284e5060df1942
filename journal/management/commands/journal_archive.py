from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from journal.archive import ArchiveError, archive_month, file_name, months_before
from journal.partitions import first_of_month, parse_month
from monitoring.progress import progress, to_running_total


class Command(BaseCommand):
    help = (
        "Write each whole month of the request journal before --before to DIR as "
        "journal-YYYY-MM.jsonl.gz with a .sha256 next to it, verify it, then drop the month "
        "(its partition; on SQLite, its rows). One line per step."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before",
            required=True,
            help="YYYY-MM: archive the months before this one (at latest the current month)",
        )
        parser.add_argument("--to", default=".", help="directory of the files (default: here)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            before = parse_month(options["before"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        this_month = first_of_month(timezone.now())
        if before > this_month:
            raise CommandError(
                f"{before:%Y-%m} is not over yet: months before {this_month:%Y-%m} at most "
                "can be archived"
            )
        directory = Path(options["to"])
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        months = months_before(connection, before)
        failed = 0
        for month in months:
            self.stdout.write(f"{month:%Y-%m}: writing {directory / file_name(month)}")
            bar = progress(desc=f"{month:%Y-%m}", unit=" rows", stream=self.stderr)
            try:
                with bar:
                    done = archive_month(
                        connection, month, directory, on_rows=to_running_total(bar)
                    )
            except ArchiveError as exc:
                failed += 1
                self.stderr.write(f"{month:%Y-%m}: NOT archived: {exc}")
                continue
            self.stdout.write(
                f"{month:%Y-%m}: {done.rows} rows, sha256 {done.sha256}, verified, "
                f"written in {done.write_seconds:.1f} s; month dropped in {done.drop_seconds:.1f} s"
            )
        summary = f"journal_archive: {len(months) - failed} months archived, {failed} failed"
        if failed:
            raise CommandError(summary)
        self.stdout.write(summary)
