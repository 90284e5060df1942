"""Bodies and answers of the operator API. Amounts are decimal strings, times ISO 8601 UTC."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from journal.models import JournalEntry
from operator_api.fields import AmountOut, AmountTextField, StrictSerializer
from providers.vp.cards.models import CardType, IssueMethod, OperatorCard
from wallet.models import (
    AdjustmentCategory,
    AuditEntry,
    Bet,
    BetState,
    LedgerEntry,
    Player,
    Proposal,
    ProposalStatus,
    Provider,
    Wallet,
)
from wallet.selectors import StuckReason, stuck_reasons_of

ACCOUNT_ID = re.compile(r"\A[A-Za-z0-9_.@:-]{1,64}\Z")
CURRENCY = re.compile(r"\A[A-Z]{3}\Z")


def _account_id_field(**kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        ACCOUNT_ID,
        max_length=64,
        error_messages={
            "invalid": "Use 1 to 64 letters, digits or . _ @ : - (the id providers know the "
            "player by)."
        },
        **kwargs,
    )


class CurrencyField(serializers.RegexField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "ISO 4217 code, for example USD.")
        super().__init__(
            CURRENCY,
            error_messages={"invalid": "Use the three-letter ISO 4217 code, for example USD."},
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        return str(super().to_internal_value(data.upper() if isinstance(data, str) else data))


# --- players and money ---------------------------------------------------------------------------


class WalletOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    balance = AmountOut()

    class Meta:
        model = Wallet
        fields = ["currency", "balance", "updated_at"]


class PlayerOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    wallets = WalletOut(many=True, read_only=True)

    class Meta:
        model = Player
        fields = ["account_id", "status", "created_at", "wallets"]


class PlayerCreateIn(StrictSerializer):
    account_id = _account_id_field()
    currency = CurrencyField()
    opening_balance = AmountTextField(required=False)


class MovementIn(StrictSerializer):
    currency = CurrencyField()
    amount = AmountTextField()
    reference = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Your cashier's id for this movement; kept in the ledger row's reason.",
    )


class AdjustmentIn(StrictSerializer):
    currency = CurrencyField()
    direction = serializers.ChoiceField(
        choices=[("credit", "to the player"), ("debit", "from the player")],
        help_text="credit adds to the balance, debit takes from it.",
    )
    amount = AmountTextField(help_text='The amount, unsigned, for example "12.50".')
    category = serializers.ChoiceField(choices=AdjustmentCategory.choices)
    reason = serializers.CharField(max_length=2000, help_text="Why; kept in the staff audit.")


class LedgerEntryOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    currency = serializers.CharField(source="wallet.currency")
    amount = AmountOut(currency="wallet.currency")
    balance_after = AmountOut(currency="wallet.currency")
    staff_user = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "created_at",
            "kind",
            "currency",
            "amount",
            "balance_after",
            "provider",
            "provider_tx_id",
            "bet",
            "staff_user",
            "reason",
        ]

    def get_staff_user(self, entry: LedgerEntry) -> str | None:
        return entry.staff_user.get_username() if entry.staff_user_id else None  # type: ignore[union-attr]


class MovementOut(serializers.Serializer):  # type: ignore[type-arg]
    entry = LedgerEntryOut()
    balance = serializers.CharField(help_text="The wallet's balance after the movement.")


class BalanceQuery(serializers.Serializer):  # type: ignore[type-arg]
    at = serializers.DateTimeField(
        help_text="The instant, ISO 8601 (UTC when no offset): rows at or before it count."
    )
    currency = CurrencyField(required=False)


class BalanceThenOut(serializers.Serializer):  # type: ignore[type-arg]
    currency = serializers.CharField()
    balance = serializers.CharField(help_text="The balance after the last row at or before at.")
    entry_id = serializers.IntegerField(
        allow_null=True, help_text="That ledger row; null when the wallet had none yet."
    )
    entry_at = serializers.DateTimeField(allow_null=True)


class BalanceAtOut(serializers.Serializer):  # type: ignore[type-arg]
    account_id = serializers.CharField()
    at = serializers.DateTimeField()
    wallets = BalanceThenOut(many=True)


class LedgerQuery(serializers.Serializer):  # type: ignore[type-arg]
    currency = CurrencyField(required=False)
    since = serializers.DateTimeField(required=False, help_text="From this instant (inclusive).")
    until = serializers.DateTimeField(required=False, help_text="Before this instant.")


# --- sessions ------------------------------------------------------------------------------------


class SessionCreateIn(StrictSerializer):
    account_id = _account_id_field()
    provider = serializers.ChoiceField(choices=Provider.choices)
    currency = CurrencyField(required=False)
    ttl_seconds = serializers.IntegerField(
        required=False,
        min_value=60,
        max_value=7 * 24 * 3600,
        help_text="Lifetime in seconds; the server's default when absent.",
    )


class SessionOut(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField()
    provider = serializers.CharField()
    account_id = serializers.CharField(source="player.account_id")
    currency = serializers.CharField()
    expires_at = serializers.DateTimeField()


# --- bets ----------------------------------------------------------------------------------------


class BetOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    account_id = serializers.CharField(source="player.account_id", default=None)
    stake = AmountOut()
    win = AmountOut()

    class Meta:
        model = Bet
        fields = [
            "id",
            "provider",
            "bet_key",
            "round_id",
            "game_code",
            "kind",
            "account_id",
            "currency",
            "stake",
            "win",
            "state",
            "needs_review",
            "review_reason",
            "late_arrival_at",
            "created_at",
            "settled_at",
            "cancelled_at",
        ]


class JournalEntryOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "created_at",
            "direction",
            "provider",
            "action",
            "path",
            "request_id",
            "http_status",
            "outcome",
            "error",
            "bet_key",
            "account_id",
            "is_cancel",
            "latency_us",
            "payload",
            "answer",
        ]


class StaffActionOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    actor = serializers.CharField(source="actor.get_username")

    class Meta:
        model = AuditEntry
        fields = ["id", "created_at", "action", "actor", "reason", "before", "after"]


class BetDetailOut(BetOut):
    stuck_reasons = serializers.SerializerMethodField()
    ledger = serializers.SerializerMethodField()
    journal = serializers.SerializerMethodField()
    staff_actions = serializers.SerializerMethodField()

    class Meta(BetOut.Meta):
        fields = [*BetOut.Meta.fields, "stuck_reasons", "ledger", "journal", "staff_actions"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_stuck_reasons(self, bet: Bet) -> list[str]:
        return [reason.value for reason in stuck_reasons_of(bet)]

    @extend_schema_field(LedgerEntryOut(many=True))
    def get_ledger(self, bet: Bet) -> Any:
        rows = LedgerEntry.objects.filter(bet=bet).select_related("wallet", "staff_user")
        return LedgerEntryOut(rows.order_by("id"), many=True).data

    @extend_schema_field(JournalEntryOut(many=True))
    def get_journal(self, bet: Bet) -> Any:
        rows = JournalEntry.objects.filter(provider=bet.provider, bet_key=bet.bet_key)
        return JournalEntryOut(rows.order_by("id"), many=True).data

    @extend_schema_field(StaffActionOut(many=True))
    def get_staff_actions(self, bet: Bet) -> Any:
        rows = AuditEntry.objects.filter(bet=bet).select_related("actor").order_by("id")
        return StaffActionOut(rows, many=True).data


class BetQuery(serializers.Serializer):  # type: ignore[type-arg]
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    state = serializers.ChoiceField(choices=BetState.choices, required=False)
    stuck = serializers.ChoiceField(
        choices=[(reason.value, reason.label) for reason in StuckReason],
        required=False,
        help_text="The support dashboard's reasons: " + ", ".join(r.value for r in StuckReason),
    )
    account_id = serializers.CharField(required=False, max_length=64)
    round_id = serializers.CharField(required=False, max_length=128)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class ReasonIn(StrictSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why; kept in the staff audit.")


class ResolveIn(ReasonIn):
    win_amount = AmountTextField(help_text='The win to credit, "0" when the bet lost.')


class ActionOut(serializers.Serializer):  # type: ignore[type-arg]
    bet = BetOut()
    balance = serializers.CharField(allow_null=True, help_text="The wallet's balance after.")


class JournalQuery(serializers.Serializer):  # type: ignore[type-arg]
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    request_id = serializers.CharField(required=False, max_length=64)
    bet = serializers.IntegerField(required=False, min_value=1, help_text="A bet's id.")
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


# --- four-eyes proposals -----------------------------------------------------------------------


class ProposalOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    account_id = serializers.CharField(source="player.account_id")
    amount = AmountOut(
        help_text="Signed like a ledger row: what the balance would gain (negative: a debit)."
    )
    proposed_by = serializers.CharField(source="proposed_by.get_username")
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "kind",
            "status",
            "account_id",
            "currency",
            "amount",
            "category",
            "bet",
            "reason",
            "proposed_by",
            "created_at",
            "expires_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]

    def get_decided_by(self, proposal: Proposal) -> str | None:
        return proposal.decided_by.get_username() if proposal.decided_by_id else None  # type: ignore[union-attr]


class ProposedOut(serializers.Serializer):  # type: ignore[type-arg]
    proposal = ProposalOut()
    detail = serializers.CharField(help_text="Nothing moved yet: who must approve, by when.")


class DecisionOut(serializers.Serializer):  # type: ignore[type-arg]
    proposal = ProposalOut()
    balance = serializers.CharField(
        allow_null=True, help_text="The wallet's balance after an approval applied it."
    )


class ProposalQuery(serializers.Serializer):  # type: ignore[type-arg]
    status = serializers.ChoiceField(
        choices=ProposalStatus.choices,
        required=False,
        help_text="pending lists what waits for approval; without it, every proposal.",
    )
    account_id = serializers.CharField(required=False, max_length=64)


# --- operator cards ------------------------------------------------------------------------------


class OperatorCardOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    account_id = serializers.CharField(source="player.account_id")
    bet_amount = AmountOut()
    max_win_amount = AmountOut()
    win_total = AmountOut()

    class Meta:
        model = OperatorCard
        fields = [
            "id",
            "spin_id",
            "account_id",
            "currency",
            "game_code",
            "card_type",
            "method",
            "rounds",
            "bet_amount",
            "free_spin_multiple",
            "lower_multiple",
            "upper_multiple",
            "max_win_amount",
            "expires_at",
            "status",
            "last_vp_code",
            "last_message",
            "spins_played",
            "win_total",
            "created_at",
        ]


class CardIssueIn(StrictSerializer):
    account_id = _account_id_field()
    method = serializers.ChoiceField(choices=IssueMethod.choices, default=IssueMethod.CARD)
    game_code = serializers.CharField(max_length=64)
    card_type = serializers.ChoiceField(choices=CardType.choices)
    rounds = serializers.IntegerField(min_value=1)
    bet_amount = AmountTextField(required=False)
    free_spin_multiple = serializers.IntegerField(min_value=1, required=False)
    lower_multiple = serializers.IntegerField(min_value=1, required=False)
    upper_multiple = serializers.IntegerField(min_value=1, required=False)
    max_win_amount = AmountTextField(required=False)
    expires_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=2000)


class CardResultOut(serializers.Serializer):  # type: ignore[type-arg]
    card = OperatorCardOut()
    action = serializers.CharField(help_text="What happened: issued, cancelled, ...")
    message = serializers.CharField()
    vp_code = serializers.IntegerField(allow_null=True)


class CardQuery(serializers.Serializer):  # type: ignore[type-arg]
    account_id = serializers.CharField(required=False, max_length=64)
    status = serializers.CharField(required=False, max_length=16)


# --- reconciliation ------------------------------------------------------------------------------


class DayQuery(serializers.Serializer):  # type: ignore[type-arg]
    day = serializers.DateField(help_text="A UTC day, YYYY-MM-DD.")
    provider = serializers.ChoiceField(choices=Provider.choices, required=False)
    currency = CurrencyField(required=False)
    basis = serializers.ChoiceField(choices=["created", "settled"], default="created")
    bom = serializers.BooleanField(
        default=True, help_text="CSV only: start with a UTF-8 byte-order mark (for Excel)."
    )
