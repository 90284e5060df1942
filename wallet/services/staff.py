"""Staff actions on stuck bets: cancel and refund, resolve as settled, mark reviewed.

Each is one transaction that also writes the audit row (who, what, why, before and after), so
an action without its audit row cannot exist. Locks: bet, then wallet, like every service.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import OperationalError, transaction
from django.utils import timezone

from wallet.db.rows import BalanceLimitExceeded, lock_wallet, move_money, save_bet
from wallet.models import AuditEntry, Bet, BetState, LedgerKind, Wallet
from wallet.services.outcomes import Outcome


class StaffActionRefused(Exception):
    """The action is not allowed in the bet's current state; the message is for staff."""


def _snapshot(bet: Bet, wallet: Wallet | None) -> dict[str, Any]:
    return {
        "state": bet.state,
        "stake": str(bet.stake),
        "win": str(bet.win),
        "needs_review": bet.needs_review,
        "balance": str(wallet.balance) if wallet else None,
    }


def require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise StaffActionRefused("A reason is required.")
    return reason


def _locked_bet(bet_id: int) -> Bet:
    return Bet.objects.select_for_update().get(pk=bet_id)


def _busy_as_refusal(action: str) -> StaffActionRefused:
    return StaffActionRefused(
        f"{action} did not run: the bet is being changed by a provider call right now. "
        "Nothing was changed; try again in a few seconds."
    )


def bet_staff_cancel(
    *, bet_id: int, actor: User, reason: str, approval: dict[str, Any] | None = None
) -> Decimal:
    """Refund an open bet's stored stake and close it as cancelled. Returns the new balance.

    ``approval``: who approved it, when it went through four-eyes (kept in the audit row).
    """
    reason = require_reason(reason)
    try:
        with transaction.atomic():
            bet = _locked_bet(bet_id)
            if bet.state != BetState.OPEN:
                raise StaffActionRefused(
                    f"Only an open bet can be cancelled and refunded; this one is "
                    f"{bet.get_state_display().lower()}. Nothing was changed."
                )
            wallet = lock_wallet(bet.wallet_id)  # type: ignore[arg-type]  # open bets have one
            before = _snapshot(bet, wallet)
            move_money(
                wallet,
                bet.stake,
                kind=LedgerKind.REFUND,
                bet=bet,
                provider=bet.provider,
                staff_user_id=actor.pk,
                reason=reason,
            )
            bet.state = BetState.CANCELLED
            bet.cancelled_at = timezone.now()
            bet.cancel_outcome = Outcome.CANCELLED  # a later provider cancel gets "done"
            bet.needs_review = False
            save_bet(bet, "state", "cancelled_at", "cancel_outcome", "needs_review")
            after = {**_snapshot(bet, wallet), **(approval or {})}
            _audit(actor, "cancel_and_refund", bet, reason, before, after)
            return wallet.balance
    except OperationalError as exc:
        raise _busy_as_refusal("Cancel and refund") from exc


def bet_staff_resolve(
    *,
    bet_id: int,
    actor: User,
    reason: str,
    win_amount: Decimal = Decimal(0),
    approval: dict[str, Any] | None = None,
) -> Decimal:
    """Close an open bet as settled, crediting ``win_amount`` (0: the bet lost)."""
    reason = require_reason(reason)
    if win_amount < 0:
        raise StaffActionRefused("The win amount cannot be negative.")
    try:
        with transaction.atomic():
            bet = _locked_bet(bet_id)
            if bet.state != BetState.OPEN:
                raise StaffActionRefused(
                    f"Only an open bet can be resolved as settled; this one is "
                    f"{bet.get_state_display().lower()}. Nothing was changed."
                )
            wallet = lock_wallet(bet.wallet_id)  # type: ignore[arg-type]
            before = _snapshot(bet, wallet)
            move_money(
                wallet,
                win_amount,
                kind=LedgerKind.WIN,
                bet=bet,
                provider=bet.provider,
                staff_user_id=actor.pk,
                reason=reason,
            )
            bet.state = BetState.SETTLED
            bet.settled_at = timezone.now()
            bet.win += win_amount
            bet.needs_review = False
            save_bet(bet, "state", "settled_at", "win", "needs_review")
            after = {**_snapshot(bet, wallet), **(approval or {})}
            _audit(actor, "resolve_as_settled", bet, reason, before, after)
            return wallet.balance
    except OperationalError as exc:
        raise _busy_as_refusal("Resolve as settled") from exc
    except BalanceLimitExceeded as exc:
        raise StaffActionRefused(
            f"The win cannot be credited: {exc}. Nothing was changed."
        ) from exc


def bet_mark_reviewed(*, bet_id: int, actor: User, reason: str) -> None:
    """Clear a bet's review flag after staff have looked at it. Moves no money."""
    reason = require_reason(reason)
    try:
        with transaction.atomic():
            bet = _locked_bet(bet_id)
            if not bet.needs_review:
                raise StaffActionRefused("This bet is not flagged for review. Nothing changed.")
            before = _snapshot(bet, None)
            bet.needs_review = False
            bet.details = {**bet.details, "reviewed_reason": bet.review_reason}
            save_bet(bet, "needs_review", "details")
            _audit(actor, "mark_reviewed", bet, reason, before, _snapshot(bet, None))
    except OperationalError as exc:
        raise _busy_as_refusal("Mark reviewed") from exc


def _audit(
    actor: User,
    action: str,
    bet: Bet,
    reason: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        bet=bet,
        player_id=bet.player_id,
        reason=reason,
        before=before,
        after=after,
    )
