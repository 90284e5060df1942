"""The request journal: every inbound provider call and every outbound call we make.

The lowest layer of our apps (it imports none of them), so the wallet's rules and support pages
can read it without importing a provider package. Writing rows is the providers' business
(``providers/journal.py``); keeping the table bounded is this app's (``partitions.py``,
``archive.py``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Direction(models.TextChoices):
    INBOUND = "in", "Provider called us"
    OUTBOUND = "out", "We called the provider"


class JournalEntry(models.Model):
    """One request and our answer (or, outbound, our request and the provider's answer).

    Written outside the money transaction so it survives a failure of the processing.
    Secrets (tokens, Authorization, session ids) are redacted before they reach this table.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    direction = models.CharField(max_length=3, choices=Direction.choices, default="in")
    provider = models.CharField(max_length=16)
    action = models.CharField(max_length=64, blank=True, default="")
    path = models.CharField(max_length=255, blank=True, default="")
    # Indexed in Meta (journal_request): db_index=True would add a second, LIKE-pattern index
    # on PostgreSQL that no query uses (support searches a request id exactly).
    request_id = models.CharField("request id", max_length=64)
    client_ip = models.GenericIPAddressField("client IP", null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(
        "decrypted payload", null=True, blank=True, help_text="The request as we understood it."
    )
    body_bytes = models.PositiveIntegerField(default=0)
    answer = models.JSONField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(default=200)
    latency_us = models.PositiveIntegerField("latency (µs)", default=0)
    outcome = models.CharField(max_length=32, blank=True, default="")
    error = models.TextField(blank=True, default="")
    bet_key = models.CharField("bet key", max_length=128, blank=True, default="")
    account_id = models.CharField("player", max_length=64, blank=True, default="")
    is_cancel = models.BooleanField(default=False)
    signature_form = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        # The table keeps the name it had under ``providers``: moving the model renamed nothing
        # in the database, and the raw SQL of the hot path and the tools names it.
        db_table = "providers_journalentry"
        verbose_name = "journaled request"
        verbose_name_plural = "request journal"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "created_at"], name="journal_provider_time"),
            models.Index(fields=["created_at"], name="journal_time"),
            models.Index(fields=["provider", "bet_key"], name="journal_bet"),
            models.Index(fields=["account_id", "created_at"], name="journal_player"),
            models.Index(fields=["request_id"], name="journal_request"),
            models.Index(
                fields=["provider", "created_at"],
                condition=Q(outcome="auth_failed"),
                name="journal_auth_failures",
            ),
            models.Index(
                fields=["provider", "bet_key"],
                condition=Q(is_cancel=True, outcome__in=["busy", "error"]),
                name="journal_cancel_retry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.action} {self.request_id}"
