"""Manual adjustments: staff credit or debit a wallet by hand, with a category and a reason.

The movement is a ``staff_adjustment`` ledger row, signed like every row (positive = to the
player). Like the bet actions in ``staff.py`` it is one transaction with its audit row, and a
debit never takes a balance below zero.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import OperationalError, transaction

from wallet.db.rows import BalanceLimitExceeded, lock_wallet, move_money
from wallet.models import AdjustmentCategory, AuditEntry, LedgerKind, Wallet
from wallet.money import currency_places, format_fixed
from wallet.services.staff import StaffActionRefused, require_reason

#: The ledger row's reason starts with the category, so the row says why on its own.
LEDGER_REASON_LENGTH = 500


def adjustment_ledger_reason(category: str, reason: str) -> str:
    return f"{AdjustmentCategory(category).label}: {reason}"[:LEDGER_REASON_LENGTH]


def check_adjustment(amount: Decimal, category: str) -> None:
    """Refuse what could never be applied: a zero amount or an unknown category."""
    if amount == 0:
        raise StaffActionRefused("An adjustment of 0 moves nothing. Nothing was changed.")
    if category not in AdjustmentCategory.values:
        choices = ", ".join(AdjustmentCategory.values)
        raise StaffActionRefused(f"Choose a category: {choices}. Nothing was changed.")


def wallet_staff_adjust(
    *,
    wallet_id: int,
    amount: Decimal,
    category: str,
    actor: User,
    reason: str,
    approval: dict[str, Any] | None = None,
) -> Decimal:
    """Credit (``amount`` > 0) or debit (< 0) a wallet now; returns the new balance.

    ``approval``: who approved it, when it went through four-eyes (kept in the audit row).
    Raises ``StaffActionRefused`` (nothing moved) for a debit past the balance, a credit past
    the largest balance, or a wallet busy past the lock bound.
    """
    reason = require_reason(reason)
    check_adjustment(amount, category)
    try:
        with transaction.atomic():
            wallet = lock_wallet(wallet_id)
            before = _snapshot(wallet)
            if wallet.balance + amount < 0:
                places = currency_places(wallet.currency)
                raise StaffActionRefused(
                    f"The balance is {format_fixed(wallet.balance, places)} {wallet.currency}, "
                    f"less than the {format_fixed(-amount, places)} {wallet.currency} to debit. "
                    "Nothing was changed."
                )
            move_money(
                wallet,
                amount,
                kind=LedgerKind.STAFF_ADJUSTMENT,
                staff_user_id=actor.pk,
                reason=adjustment_ledger_reason(category, reason),
            )
            after = {**_snapshot(wallet), "amount": str(amount), "category": category}
            if approval:
                after.update(approval)
            AuditEntry.objects.create(
                actor=actor,
                action="staff_adjustment",
                player_id=wallet.player_id,
                reason=reason,
                before=before,
                after=after,
            )
            return wallet.balance
    except OperationalError as exc:
        raise StaffActionRefused(
            "The adjustment did not run: the wallet is being changed by a provider call right "
            "now. Nothing was changed; try again in a few seconds."
        ) from exc
    except BalanceLimitExceeded as exc:
        raise StaffActionRefused(f"The credit cannot be made: {exc}. Nothing was changed.") from exc


def _snapshot(wallet: Wallet) -> dict[str, Any]:
    return {"balance": str(wallet.balance), "currency": wallet.currency}
