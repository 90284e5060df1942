"""Operator cards, their status history, and the VP bearer token shared by every worker.

A card's status is only ever changed by ``providers.vp.cards.services``, each change written
together with its history row. "Cancelled" is written only when VP answered code 0 to a cancel.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from wallet.models import MONEY_DIGITS, MONEY_PLACES, Player


class CardStatus(models.TextChoices):
    PENDING = "pending", "Pending (sent to VP, answer not known yet)"
    ISSUED = "issued", "Issued"
    IN_USE = "in_use", "In use"
    COMPLETED = "completed", "Completed (used up, or VP says it is finished)"
    CANCEL_PENDING = "cancel_pending", "Cancel pending (VP has not confirmed yet)"
    CANCELLED = "cancelled", "Cancelled (VP confirmed)"
    FAILED = "failed", "Failed (VP did not issue it)"
    EXPIRED = "expired", "Expired unused"


#: Statuses a staff cancel may start from (a pending card first needs its issue re-sent).
CANCELLABLE = frozenset({CardStatus.ISSUED, CardStatus.IN_USE, CardStatus.CANCEL_PENDING})
#: Statuses no VP call or bet can change any more.
FINAL = frozenset(
    {CardStatus.COMPLETED, CardStatus.CANCELLED, CardStatus.FAILED, CardStatus.EXPIRED}
)


class CardType(models.IntegerChoices):
    FREE_SPIN = 1, "1 · free spins"
    FREE_SPIN_MULTIPLIER = 2, "2 · free spins with multiplier"
    FEATURE_11 = 11, "11 · feature card"
    FEATURE_15 = 15, "15 · feature card"
    POWERFUL_FEATURE_21 = 21, "21 · powerful feature card"
    POWERFUL_FEATURE_25 = 25, "25 · powerful feature card"
    SUPER_POWERFUL_FEATURE_22 = 22, "22 · super-powerful feature card"
    SUPER_POWERFUL_FEATURE_26 = 26, "26 · super-powerful feature card"


#: Card types VP's simplified call (/v2/items/usesimplefreespin) accepts.
SIMPLE_FREE_SPIN_TYPES = frozenset({CardType.FREE_SPIN, CardType.FREE_SPIN_MULTIPLIER})


class IssueMethod(models.TextChoices):
    CARD = "items/use", "Operator card (/v2/items/use)"
    SIMPLE_FREE_SPIN = "items/usesimplefreespin", "Simple free spins (/v2/items/usesimplefreespin)"


def _money(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


class OperatorCard(models.Model):
    """A free-spin or feature card sent to one player through VP, identified by our spin id."""

    spin_id = models.CharField(
        "spin id", max_length=64, unique=True, help_text="Our id for the card at VP (spinId)."
    )
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="operator_cards")
    currency = models.CharField(max_length=10, blank=True, default="")
    game_code = models.CharField(max_length=64)
    card_type = models.PositiveSmallIntegerField(choices=CardType.choices)
    method = models.CharField(max_length=32, choices=IssueMethod.choices, default=IssueMethod.CARD)
    rounds = models.PositiveIntegerField()
    bet_amount = _money(null=True, blank=True, help_text="Bet per spin (itemBet).")
    free_spin_multiple = models.PositiveIntegerField(null=True, blank=True)
    lower_multiple = models.PositiveIntegerField(null=True, blank=True)
    upper_multiple = models.PositiveIntegerField(null=True, blank=True)
    max_win_amount = _money(null=True, blank=True)
    expires_at = models.DateTimeField("expires")
    vp_item_id = models.CharField("VP item id", max_length=128, blank=True, default="")
    status = models.CharField(max_length=16, choices=CardStatus.choices, default="pending")
    last_vp_code = models.IntegerField("last VP code", null=True, blank=True)
    last_message = models.CharField(max_length=500, blank=True, default="")

    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    issue_reason = models.TextField(blank=True, default="")
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancel_reason = models.TextField(blank=True, default="")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    status_before_cancel = models.CharField(
        max_length=16,
        choices=CardStatus.choices,
        blank=True,
        default="",
        help_text="Where a cancel VP refused for good returns the card to.",
    )
    cancel_attempts = models.PositiveIntegerField(default=0)

    # A VP call about this card is in flight: only the holder of this claim sends it, so two
    # staff clicks (or two cron runs) never send two requests. Expires after a lease (services).
    call_token = models.CharField(max_length=32, blank=True, default="")
    call_started_at = models.DateTimeField(null=True, blank=True)

    spins_played = models.PositiveIntegerField(
        default=0, help_text="Settled VP bets naming this card's spin id (last refresh)."
    )
    win_total = _money(default=0, help_text="Sum of those bets' wins (last refresh).")
    usage_refreshed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "operator card"
        default_permissions = ("view",)  # no generic add/change/delete: services only
        permissions = [
            ("issue_operatorcard", "Can issue operator cards through VP"),
            ("cancel_operatorcard", "Can cancel operator cards through VP"),
        ]
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="opcard_status_age"),
            models.Index(fields=["player", "created_at"], name="opcard_player_recent"),
            models.Index(fields=["game_code", "created_at"], name="opcard_game"),
            models.Index(
                fields=["call_started_at"],
                condition=Q(status="cancel_pending"),
                name="opcard_cancel_retry",
            ),
        ]

    def __str__(self) -> str:
        return self.spin_id


class CardStatusChange(models.Model):
    """One status change of a card: from, to, when, who (None: the system), why, VP's code."""

    card = models.ForeignKey(OperatorCard, on_delete=models.PROTECT, related_name="history")
    from_status = models.CharField(max_length=16, choices=CardStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=CardStatus.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    reason = models.TextField(blank=True, default="")
    vp_code = models.IntegerField("VP code", null=True, blank=True)
    vp_log_uuid = models.CharField("VP logUUID", max_length=64, blank=True, default="")

    class Meta:
        verbose_name = "card status change"
        default_permissions = ("view",)
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.card_id}: {self.from_status or '-'} → {self.to_status}"


class VpAccessToken(models.Model):
    """VP's bearer token, one row per (agent, VP host), shared by every app server.

    Stored encrypted under VP_API_KEY (AES-GCM, VP's own codec), so a database dump alone does
    not hand out a usable token; a key rotation simply makes the row unreadable and it is
    fetched again.
    """

    agent_id = models.CharField(max_length=64)
    base_url = models.CharField(max_length=255)
    token_cipher = models.TextField()
    fetched_at = models.DateTimeField()
    refresh_after = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "VP access token"
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["agent_id", "base_url"], name="vp_token_one_per_host")
        ]

    def __str__(self) -> str:
        return f"VP token of {self.agent_id}"
