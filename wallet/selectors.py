"""Read-only queries over wallets and bets (no locks, no writes)."""

from __future__ import annotations

from decimal import Decimal

from wallet.models import Bet, Wallet


def bet_find(*, provider: str, bet_key: str) -> Bet | None:
    """The bet with this key at this provider, or None."""
    return Bet.objects.filter(provider=provider, bet_key=bet_key).first()


def player_balance(*, account_id: str, currency: str = "") -> tuple[Decimal, str] | None:
    """A player's balance and its currency, for an answer that must show it (no lock).

    With ``currency`` that wallet; without it (or when the player has no such wallet) the
    player's only wallet. None when the player is unknown or the wallet is ambiguous.
    """
    wallets = list(
        Wallet.objects.filter(player__account_id=account_id).values_list("balance", "currency")[:5]
    )
    chosen = [w for w in wallets if w[1] == currency] if currency else []
    if not chosen and len(wallets) == 1:
        chosen = wallets
    return (chosen[0][0], chosen[0][1]) if chosen else None


def bet_win_tx_ids(*, bet_id: int) -> list[str]:
    """The provider transaction ids that credited wins to this bet, oldest first."""
    from wallet.models import LedgerEntry, LedgerKind

    rows = LedgerEntry.objects.filter(bet_id=bet_id, kind=LedgerKind.WIN).order_by("id")
    return list(rows.values_list("provider_tx_id", flat=True))
