"""Read-only queries over wallets and bets (no locks, no writes)."""

from __future__ import annotations

from wallet.models import Bet


def bet_find(*, provider: str, bet_key: str) -> Bet | None:
    """The bet with this key at this provider, or None."""
    return Bet.objects.filter(provider=provider, bet_key=bet_key).first()
