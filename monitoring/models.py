"""What a scrape of ``/metrics`` reads that no request records: the last ledger check."""

from __future__ import annotations

from django.db import models


class LedgerCheckRun(models.Model):
    """One run of ``manage.py check_ledger`` (cron), kept so that every app server's scrape can
    tell whether the ledger was checked lately and whether it balanced."""

    finished_at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    problems = models.PositiveIntegerField(default=0)
    wallets_checked = models.PositiveIntegerField(default=0)
    bets_checked = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(default=0)

    class Meta:
        ordering = ("-finished_at",)

    def __str__(self) -> str:
        verdict = "ok" if self.ok else f"{self.problems} problems"
        return f"check_ledger at {self.finished_at:%Y-%m-%d %H:%M}: {verdict}"
