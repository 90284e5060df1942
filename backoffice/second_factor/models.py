"""The sign-in audit: every second-factor set-up, reset, refused code and recovery code used."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class SignInEvent(models.Model):
    """One event of a staff member's second factor. Rows are only ever added: like the staff
    audit, they are what an auditor reads after an incident, so nothing edits or deletes them."""

    class Kind(models.TextChoices):
        ENROLLED = "enrolled", "Second factor set up"
        CODE_REFUSED = "code_refused", "Wrong code"
        RECOVERY_CODE_USED = "recovery_code_used", "Signed in with a recovery code"
        RESET = "reset", "Second factor reset"

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sign_in_events",
        help_text="Whose second factor.",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who did it: the staff member, or the superuser who reset it.",
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    reason = models.TextField(blank=True, default="")
    client_ip = models.GenericIPAddressField("client IP", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "staff sign-in event"
        verbose_name_plural = "staff sign-in events"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["staff", "created_at"], name="sign_in_event_staff")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.staff_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Sign-in events are never changed; add a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Sign-in events are never deleted.")
