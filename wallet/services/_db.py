"""Low-level pieces the money services share: bet row locks, wallet moves, busy detection.

Lock order is always bet rows (sorted by key), then the wallet row. Lock waits are bounded by
PostgreSQL's ``lock_timeout`` (set on the connection, see settings) and by SQLite's busy timeout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import ParamSpec

from django.db import OperationalError, connection
from django.utils import timezone

from wallet.models import Bet, LedgerEntry, Wallet
from wallet.services.outcomes import Outcome, WalletResult

P = ParamSpec("P")


def busy_on_lock_timeout(func: Callable[P, WalletResult]) -> Callable[P, WalletResult]:
    """Turn a lock-wait timeout, deadlock or lost connection into ``Outcome.BUSY``.

    The transaction inside ``func`` has rolled back by then, so nothing moved; the provider is
    told to try again with its own retry code.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> WalletResult:
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            return WalletResult(Outcome.BUSY, message=_short(exc))

    return wrapper


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def lock_bets(provider: str, bet_keys: Iterable[str]) -> dict[str, Bet]:
    """Lock the existing bets with these keys, one by one in Python's key order.

    Every service locks several bets in this same order (``sorted``), never in the database's
    collation order, which can differ (``"a-b"`` and ``"ab"``) and would let two requests over
    the same bets deadlock. Several bets in one call are rare (JDB settles and cancels).
    """
    locked: dict[str, Bet] = {}
    for key in sorted(set(bet_keys)):
        bet = Bet.objects.select_for_update().filter(provider=provider, bet_key=key).first()
        if bet is not None:
            locked[key] = bet
    return locked


def insert_bet_if_absent(bet: Bet) -> bool:
    """INSERT the bet unless its (provider, bet key) exists; True when this call inserted it.

    ``INSERT … ON CONFLICT DO NOTHING`` waits for a concurrent inserter of the same key to finish,
    so exactly one of two racing requests creates the row and the other then locks it.
    """
    fields = [f for f in Bet._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(bet, add=True), connection) for f in fields]
    quote = connection.ops.quote_name
    table = quote(Bet._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields if f.column)
    placeholders = ", ".join(["%s"] * len(fields))
    # Only model metadata (quoted identifiers) is interpolated; values are parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
    sql += (
        f"ON CONFLICT ({quote('provider')}, {quote('bet_key')}) DO NOTHING RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    bet.pk = row[0]
    bet._state.adding = False
    bet._state.db = "default"
    return True


def lock_or_insert_bet(template: Bet) -> tuple[Bet, bool]:
    """Lock the bet with the template's key, inserting the template if there is none."""
    existing = lock_bets(template.provider, [template.bet_key]).get(template.bet_key)
    if existing is not None:
        return existing, False
    if insert_bet_if_absent(template):
        return template, True
    # Another request inserted it between our SELECT and INSERT (and has committed): lock it.
    return Bet.objects.select_for_update().get(
        provider=template.provider, bet_key=template.bet_key
    ), False


def lock_wallet(wallet_id: int) -> Wallet:
    return Wallet.objects.select_for_update().get(pk=wallet_id)


def move_money(
    wallet: Wallet,
    amount: Decimal,
    *,
    kind: str,
    bet: Bet | None = None,
    provider: str = "",
    provider_tx_id: str = "",
    staff_user_id: int | None = None,
    reason: str = "",
) -> LedgerEntry:
    """Apply a signed amount to a locked wallet and append its ledger row.

    The caller has checked that the balance stays non-negative; the database constraint
    ``wallet_balance_never_negative`` is the backstop.
    """
    wallet.balance = wallet.balance + amount
    Wallet.objects.filter(pk=wallet.pk).update(balance=wallet.balance, updated_at=timezone.now())
    return LedgerEntry.objects.create(
        wallet=wallet,
        bet=bet,
        kind=kind,
        amount=amount,
        balance_after=wallet.balance,
        provider=provider,
        provider_tx_id=provider_tx_id,
        staff_user_id=staff_user_id,
        reason=reason,
    )


def save_bet(bet: Bet, *fields: str) -> None:
    bet.save(update_fields=[*fields, "updated_at"])


def flag(bet: Bet, reason: str) -> None:
    """Mark a bet for staff review (kept in the caller's transaction)."""
    bet.needs_review = True
    bet.review_reason = reason[:255]
