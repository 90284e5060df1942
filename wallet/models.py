"""Players, wallets, the append-only ledger, bets and their states, sessions and staff audit.

Money is ``Decimal`` with 6 decimal places everywhere (``MONEY``); no float touches it.
Only ``wallet.services`` writes these tables.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import Q
from django.utils import timezone

from wallet.chain import AUDIT_FIELDS, audit_link, chain_key

MONEY_DIGITS = 20
MONEY_PLACES = 6


def money_field(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=Decimal(0), **kwargs
    )


class Provider(models.TextChoices):
    JDB = "jdb", "JDB"
    VP = "vp", "VP (VertexPlay)"
    NAGA = "naga", "Naga Games"
    BUFFALO = "buffalo", "Buffalo"


class Player(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        BLOCKED = "blocked", "Blocked (no new bets)"

    account_id = models.CharField(
        "account id", max_length=64, unique=True, help_text="The id providers know the player by."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account_id"]

    def __str__(self) -> str:
        return self.account_id


class Wallet(models.Model):
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="wallets")
    currency = models.CharField(max_length=10)
    balance = money_field()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [
            ("adjust_wallet", "Can credit or debit a wallet by hand, with a reason (support)"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["player", "currency"], name="wallet_one_per_currency"),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="wallet_balance_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.player.account_id} {self.currency}"


class BetState(models.TextChoices):
    OPEN = "open", "Open (stake taken, not settled)"
    SETTLED = "settled", "Settled"
    CANCELLED = "cancelled", "Cancelled (stake refunded)"
    REFUSED = "refused", "Refused (no money moved)"
    TOMBSTONE = "tombstone", "Tombstone (cancelled before it arrived)"


class BetKind(models.TextChoices):
    DEBIT = "debit", "Debit, settled later"
    BET_AND_SETTLE = "bet_and_settle", "Bet and settle in one call"


class Bet(models.Model):
    """The unit a provider can cancel, keyed by (provider, bet key).

    ``open_outcome`` and ``cancel_outcome`` keep the typed outcome of the first opening and the
    first cancel, so that a repeat gets the same answer as the first time.
    """

    provider = models.CharField(max_length=16, choices=Provider.choices)
    bet_key = models.CharField("bet key", max_length=128)
    round_id = models.CharField("round", max_length=128, blank=True, default="")
    game_code = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=16, choices=BetKind.choices, default=BetKind.DEBIT)
    player = models.ForeignKey(
        Player,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bets",
        db_index=False,  # bet_player_recent (player, created_at) serves lookups by player
    )
    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, null=True, blank=True, related_name="bets"
    )
    currency = models.CharField(max_length=10, blank=True, default="")
    stake = money_field()
    win = money_field()
    state = models.CharField(max_length=16, choices=BetState.choices)
    open_tx_id = models.CharField("opening transaction id", max_length=128, blank=True, default="")
    open_outcome = models.CharField(max_length=32, blank=True, default="")
    cancel_outcome = models.CharField(max_length=32, blank=True, default="")
    more_settles_expected = models.BooleanField(
        default=False, help_text="The last settle said the round is not closed yet."
    )
    late_arrival_at = models.DateTimeField(
        null=True, blank=True, help_text="The bet arrived after its cancel (a tombstone)."
    )
    needs_review = models.BooleanField(default=False)
    review_reason = models.CharField(max_length=255, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "bet_key"], name="bet_key_unique"),
            models.CheckConstraint(condition=Q(stake__gte=0), name="bet_stake_not_negative"),
            models.CheckConstraint(condition=Q(win__gte=0), name="bet_win_not_negative"),
        ]
        permissions = [
            ("cancel_bet", "Can cancel and refund a bet (support)"),
            ("resolve_bet", "Can resolve a bet as settled (support)"),
            ("review_bet", "Can mark a flagged bet as reviewed (support)"),
            ("export_reconciliation", "Can export finance reconciliation files (finance)"),
        ]
        indexes = [
            models.Index(fields=["state", "provider", "created_at"], name="bet_state_age"),
            models.Index(
                fields=["provider", "created_at"],
                condition=Q(needs_review=True),
                name="bet_needs_review",
            ),
            models.Index(
                fields=["provider", "created_at"],
                condition=Q(late_arrival_at__isnull=False),
                name="bet_late_arrival",
            ),
            models.Index(fields=["player", "created_at"], name="bet_player_recent"),
            models.Index(fields=["round_id"], name="bet_round"),
            # Support admin: exact search by bet key alone, and cancels of today / per hour.
            models.Index(fields=["bet_key"], name="bet_key_search"),
            models.Index(
                fields=["cancelled_at", "provider"],
                condition=Q(cancelled_at__isnull=False),
                name="bet_cancelled_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.bet_key}"


class LedgerKind(models.TextChoices):
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    STAKE = "stake", "Stake"
    WIN = "win", "Win"
    REFUND = "refund", "Refund"
    REVERSAL = "reversal", "Reversal of a settled round"
    STAFF_ADJUSTMENT = "staff_adjustment", "Staff adjustment"


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("ledger rows are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("ledger rows are append-only")


class LedgerEntry(models.Model):
    """One signed change of one wallet. Never edited or deleted: corrections are new rows.

    PostgreSQL also refuses UPDATE and DELETE with a trigger (migration 0002), and a trigger
    chains every row to the wallet's previous one (migration 0012): ``verify_ledger`` finds an
    edit or a deletion made past both.
    """

    wallet = models.ForeignKey(
        Wallet,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,  # ledger_wallet_order (wallet, id) serves lookups by wallet
    )
    bet = models.ForeignKey(
        Bet, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    balance_after = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    provider = models.CharField(max_length=16, blank=True, default="")
    provider_tx_id = models.CharField(
        "provider transaction id", max_length=128, blank=True, default=""
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    #: HMAC-SHA256 of this row chained to the wallet's previous row, written by the database's
    #: trigger whatever the INSERT gives (wallet.chain, docs/ledger-chain.md).
    chain_hash = models.BinaryField(null=True, editable=False)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        constraints = [
            # Idempotency: a provider's debit or credit id moves money at most once per kind.
            models.UniqueConstraint(
                fields=["provider", "kind", "provider_tx_id"],
                condition=Q(kind__in=["stake", "win"]) & ~Q(provider_tx_id=""),
                name="ledger_provider_tx_once",
            ),
            # A bet is staked, refunded or reversed at most once, whoever asks and however often.
            models.UniqueConstraint(
                fields=["bet", "kind"],
                condition=Q(kind__in=["stake", "refund", "reversal"]) & Q(bet__isnull=False),
                name="ledger_bet_once",
            ),
        ]
        indexes = [models.Index(fields=["wallet", "id"], name="ledger_wallet_order")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} on {self.wallet_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("ledger rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("ledger rows are append-only")


class AdjustmentCategory(models.TextChoices):
    """Why staff credit or debit a wallet by hand (kept with the ledger row's reason)."""

    GOODWILL = "goodwill", "Goodwill"
    CORRECTION = "correction", "Correction"
    CHARGEBACK = "chargeback", "Chargeback"
    OTHER = "other", "Other"


class ProposalKind(models.TextChoices):
    """The staff money actions that four-eyes holds above ``FOUR_EYES_THRESHOLD``; the values
    are the actions' audit codes."""

    ADJUSTMENT = "staff_adjustment", "Manual adjustment"
    CANCEL = "cancel_and_refund", "Cancel and refund"
    RESOLVE = "resolve_as_settled", "Resolve as settled"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPLIED = "applied", "Approved and applied"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Refused at approval (nothing moved)"
    EXPIRED = "expired", "Expired (never applied)"


class Proposal(models.Model):
    """A staff money action waiting for a second person (maker-checker, four-eyes).

    ``amount`` is what the action would move: the signed adjustment, the win to credit, or the
    stake to refund. Nothing moves until an approver other than the proposer approves it; the
    approval then runs the action against the bet and wallet as they are at that moment.
    """

    kind = models.CharField(max_length=32, choices=ProposalKind.choices)
    status = models.CharField(
        max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="+")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="+")
    bet = models.ForeignKey(Bet, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    currency = models.CharField(max_length=10)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    category = models.CharField(
        max_length=16, choices=AdjustmentCategory.choices, blank=True, default=""
    )
    reason = models.TextField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "approval"
        verbose_name_plural = "approvals"
        permissions = [
            (
                "approve_proposal",
                "Can approve or reject another person's staff money action (approver)",
            ),
        ]
        constraints = [
            # Two proposals for one bet would both wait, and the second could never apply.
            models.UniqueConstraint(
                fields=["bet"],
                condition=Q(status="pending") & Q(bet__isnull=False),
                name="proposal_one_pending_per_bet",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="proposal_queue")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class PlayerSession(models.Model):
    """A game session token we issued (Naga ``playerToken``, Buffalo ``sid``)."""

    token = models.CharField(max_length=64, unique=True)
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="sessions")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    currency = models.CharField(max_length=10)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.provider} session of {self.player_id}"


class AuditChainHead(models.Model):
    """The staff audit chain's last link (one row, id 1): appending an audit row locks it, so
    audit rows are chained one at a time in id order, and ``verify_ledger`` can tell a deleted
    last row from the end of the chain."""

    id = models.SmallIntegerField(primary_key=True)
    last_entry_id = models.BigIntegerField(null=True)
    last_hash = models.BinaryField(null=True)

    class Meta:
        verbose_name = "audit chain head"

    def __str__(self) -> str:
        return f"audit chain at {self.last_entry_id}"


class AuditEntry(models.Model):
    """Who did what to which bet or player, why, with amounts before and after.

    Each new row is chained (HMAC-SHA256) to the one before it, in the same transaction
    (``save``; ``bulk_create`` would skip it and is not used).
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    action = models.CharField(max_length=64)
    bet = models.ForeignKey(Bet, on_delete=models.PROTECT, null=True, blank=True)
    player = models.ForeignKey(Player, on_delete=models.PROTECT, null=True, blank=True)
    reason = models.TextField()
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    chain_hash = models.BinaryField(null=True, editable=False)

    class Meta:
        verbose_name = "staff audit entry"
        verbose_name_plural = "staff audit entries"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or self.pk is not None:
            super().save(*args, **kwargs)
            return
        using = kwargs.get("using") or router.db_for_write(AuditEntry, instance=self)
        with transaction.atomic(using=using):
            heads = AuditChainHead.objects.using(using)
            # Test teardown (flush) empties the table; production keeps the migration's row.
            heads.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
            head = heads.select_for_update().get(pk=1)
            super().save(*args, **kwargs)
            previous = bytes(head.last_hash) if head.last_hash is not None else None
            self.chain_hash = audit_link(chain_key(), previous, self.chain_fields())
            AuditEntry.objects.using(using).filter(pk=self.pk).update(chain_hash=self.chain_hash)
            head.last_entry_id, head.last_hash = self.pk, self.chain_hash
            head.save(using=using)

    def chain_fields(self) -> tuple[Any, ...]:
        """``AUDIT_FIELDS`` as they read back from the database (JSON through its encoder)."""
        values = []
        for name in AUDIT_FIELDS:
            value = getattr(self, name)
            field = self._meta.get_field(name)
            if isinstance(field, models.JSONField):
                value = json.loads(json.dumps(value, cls=field.encoder))
            values.append(value)
        return tuple(values)


class StaffLoginFailure(models.Model):
    """One failed admin login, counted by ``backoffice.login_throttle`` to lock out guessing.

    Kept in the database (not a per-process cache) so that every app server behind the load
    balancer sees the same count. Rows older than the lockout window are purged as new ones come.
    """

    username = models.CharField(max_length=150, blank=True, default="")
    client_ip = models.GenericIPAddressField("client IP", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "failed staff login"
        verbose_name_plural = "failed staff logins"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["username", "created_at"], name="login_failure_user"),
            models.Index(fields=["client_ip", "created_at"], name="login_failure_ip"),
            models.Index(fields=["created_at"], name="login_failure_time"),
        ]

    def __str__(self) -> str:
        return f"{self.username or '?'} from {self.client_ip or '?'}"
