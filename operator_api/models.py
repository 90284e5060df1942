"""API keys of the operator's platforms, and the answers kept for ``Idempotency-Key`` retries.

A key belongs to a service user (``owner``) whose group is the key's role, so that the API asks
the same permission questions as the admin and every audit row names who acted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class ApiRole(models.TextChoices):
    """A key's role and the staff group that carries its permissions."""

    PLATFORM = "platform", "Platform"
    SUPPORT = "support", "Support"
    FINANCE = "finance", "Finance"
    READ_ONLY = "read-only", "Read-only"

    @property
    def group_name(self) -> str:
        return str(self.label)


class OperatorApiKeyManager(BaseAPIKeyManager):
    def get_usable_keys(self) -> models.QuerySet[OperatorApiKey]:
        return super().get_usable_keys().select_related("owner")  # type: ignore[no-any-return]


class OperatorApiKey(AbstractAPIKey):
    """One machine client's key: stored hashed (SHA-512 of a random secret), shown once."""

    objects = OperatorApiKeyManager()  # type: ignore[misc,assignment]  # narrows the library's

    role = models.CharField(max_length=16, choices=ApiRole.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text="The service user the key acts as; staff audit rows name it.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "operator API key"
        verbose_name_plural = "operator API keys"


class IdempotentRequest(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key``.

    One row per (caller, key), written in the same transaction as the change it records, so a
    retry finds either nothing (the first attempt moved nothing) or the finished answer.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the method, path and canonical JSON body."
    )
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "idempotent API request"
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
