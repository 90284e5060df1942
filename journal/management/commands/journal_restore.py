from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from journal.archive import ArchiveError, restore_file
from monitoring.progress import progress, to_running_total


class Command(BaseCommand):
    help = (
        "Check a journal-YYYY-MM.jsonl.gz file against its .sha256 and load its rows back into "
        "the journal (into that month's partition, created if needed). All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a file journal_archive wrote")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        self.stdout.write(f"{path.name}: checking its checksum and loading")
        bar = progress(desc=path.name, unit=" rows", stream=self.stderr)
        try:
            with bar:
                month, rows = restore_file(connection, path, on_rows=to_running_total(bar))
        except ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{path.name}: {rows} rows of {month:%Y-%m} restored")
