"""Write the finance CSV files from cron: the transaction export or the daily summary.

Same filters, same columns and the same streaming code as the admin pages. With ``--output``
the file is written next to its final name and renamed when complete, so a reader never sees
half a file; a failure leaves no file and exits non-zero. Writing a file on a terminal draws
the bytes written and their rate on standard error (``monitoring.progress``); under cron or in a
pipe nothing but the closing line is printed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from monitoring.progress import progress
from wallet.db.replica import replica_reads
from wallet.models import Provider
from wallet.reconciliation.filters import DateBasis, ReconciliationFilter
from wallet.reconciliation.summary import summary_chunks
from wallet.reconciliation.transactions import export_chunks


def _day(text: str) -> date:
    if text == "yesterday":
        return timezone.now().date() - timedelta(days=1)
    if text == "today":
        return timezone.now().date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{text!r} is not a day: use YYYY-MM-DD, today or yesterday") from exc


class Command(BaseCommand):
    help = (
        "Write the finance transaction export (one row per money movement) or the daily "
        "summary as CSV, to stdout or a file. Days are UTC days, both ends included."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--report",
            choices=["transactions", "summary"],
            default="transactions",
            help="transactions (default) or the daily summary",
        )
        parser.add_argument("--provider", choices=[p.value for p in Provider], default="")
        parser.add_argument("--currency", default="", help="e.g. USD; default: all")
        parser.add_argument("--from", dest="date_from", help="first UTC day: YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", help="last UTC day (included): YYYY-MM-DD")
        parser.add_argument(
            "--day", help="one UTC day (YYYY-MM-DD, today or yesterday): --from and --to"
        )
        parser.add_argument(
            "--by",
            choices=[basis.value for basis in DateBasis],
            default=DateBasis.CREATED.value,
            help="select days by when the money moved (created, default) or when the bet "
            "was settled or cancelled (settled)",
        )
        parser.add_argument("--output", "-o", help="file to write; default: stdout")
        parser.add_argument(
            "--no-bom", action="store_true", help="omit the UTF-8 byte-order mark (for scripts)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # A file nobody acts on before it is written: read from the standby when there is one.
        with replica_reads():
            self._export(options)

    def _export(self, options: dict[str, Any]) -> None:
        selection = self._selection(options)
        bom = not options["no_bom"]
        if options["report"] == "summary":
            chunks = summary_chunks(selection, bom=bom)
        else:
            chunks = export_chunks(selection, bom=bom)
        if options["output"]:
            with progress(desc="writing", unit="B", unit_scale=True, stream=self.stderr) as bar:
                written = self._write_file(Path(options["output"]), chunks, bar.update)
            self.stderr.write(f"wrote {written:,} bytes to {options['output']}")
        else:
            for chunk in chunks:
                self.stdout.write(chunk.decode("utf-8"), ending="")
            self.stdout.flush()

    @staticmethod
    def _selection(options: dict[str, Any]) -> ReconciliationFilter:
        if options["day"] and (options["date_from"] or options["date_to"]):
            raise CommandError("--day replaces --from and --to; give one or the other")
        first = last = _day(options["day"]) if options["day"] else None
        if options["date_from"]:
            first = _day(options["date_from"])
        if options["date_to"]:
            last = _day(options["date_to"])
        try:
            return ReconciliationFilter(
                provider=options["provider"] or "",
                currency=(options["currency"] or "").strip().upper(),
                date_from=first,
                date_to=last,
                basis=DateBasis(options["by"]),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

    @staticmethod
    def _write_file(target: Path, chunks: Iterator[bytes], wrote: Callable[[int], object]) -> int:
        target = target.resolve()
        if not target.parent.is_dir():
            raise CommandError(f"the directory {target.parent} does not exist")
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        written = 0
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide it from readers
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
                    wrote(len(chunk))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return written
