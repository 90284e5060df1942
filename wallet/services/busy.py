"""Database failures a money service answers instead of raising: a lock wait past its limit, a
deadlock or a lost connection is ``Outcome.BUSY`` (the provider tries again), a credit past the
balance limit is ``Outcome.BALANCE_LIMIT``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import ParamSpec

from django.db import OperationalError

from wallet.db.rows import BalanceLimitExceeded
from wallet.models import Wallet
from wallet.services.outcomes import Outcome, WalletResult

P = ParamSpec("P")


def busy_on_lock_timeout(func: Callable[P, WalletResult]) -> Callable[P, WalletResult]:
    """Turn a lock-wait timeout, deadlock or lost connection into ``Outcome.BUSY``, and a
    credit past the balance limit into ``Outcome.BALANCE_LIMIT``.

    The transaction inside ``func`` has rolled back by then, so nothing moved; the provider is
    told to try again with its own retry code, or that its amount cannot be taken.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> WalletResult:
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            return WalletResult(Outcome.BUSY, message=_short(exc))
        except BalanceLimitExceeded as exc:
            return WalletResult(
                Outcome.BALANCE_LIMIT,
                balance=_balance_after_refusal(exc.wallet_id),
                currency=exc.currency,
                message=str(exc),
            )

    return wrapper


def _balance_after_refusal(wallet_id: int | None) -> Decimal | None:
    if wallet_id is None:
        return None
    return Wallet.objects.filter(pk=wallet_id).values_list("balance", flat=True).first()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
