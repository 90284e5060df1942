"""Players, their opening balance, and the game-session tokens we issue to providers."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from wallet.db import hot_sql
from wallet.db.rows import (
    lock_wallet,
    move_money,
    select_with_player_sql,
    with_player_from_row,
)
from wallet.models import LedgerKind, Player, PlayerSession, Wallet
from wallet.money import currency_places, format_fixed


def player_create(
    *, account_id: str, currency: str, opening_balance: Decimal = Decimal(0)
) -> Player:
    """Create a player with one wallet; an opening balance is written as a deposit row."""
    with transaction.atomic():
        player, _ = Player.objects.get_or_create(account_id=account_id)
        wallet, _ = Wallet.objects.get_or_create(player=player, currency=currency.upper())
        if opening_balance:
            wallet_deposit(wallet_id=wallet.pk, amount=opening_balance, reason="opening balance")
    return player


class PlayerExists(Exception):
    """``player_register`` was given an account id that is taken; nothing was created."""


def player_register(
    *,
    account_id: str,
    currency: str,
    opening_balance: Decimal = Decimal(0),
    staff_user_id: int | None = None,
) -> Player:
    """Create a new player and its wallet, or raise ``PlayerExists``: unlike ``player_create``
    a second registration of the same id never deposits its opening balance again."""
    try:
        with transaction.atomic():
            player = Player.objects.create(account_id=account_id)
            wallet = Wallet.objects.create(player=player, currency=currency.upper())
            if opening_balance:
                wallet_deposit(
                    wallet_id=wallet.pk,
                    amount=opening_balance,
                    reason="opening balance",
                    staff_user_id=staff_user_id,
                )
    except IntegrityError as exc:
        if Player.objects.filter(account_id=account_id).exists():
            raise PlayerExists(f"A player {account_id!r} exists already.") from exc
        raise
    return player


class InsufficientFunds(Exception):
    """A withdrawal larger than the balance; nothing moved. The message is for the caller."""


def wallet_deposit(
    *, wallet_id: int, amount: Decimal, reason: str, staff_user_id: int | None = None
) -> Decimal:
    """Add money from outside the games (cashier, demo). Returns the new balance."""
    if amount <= 0:
        raise ValueError("a deposit must be positive")
    with transaction.atomic():
        wallet = lock_wallet(wallet_id)
        move_money(
            wallet, amount, kind=LedgerKind.DEPOSIT, reason=reason, staff_user_id=staff_user_id
        )
        return wallet.balance


def wallet_withdraw(
    *, wallet_id: int, amount: Decimal, reason: str, staff_user_id: int | None = None
) -> Decimal:
    """Take money out to the cashier. Returns the new balance; raises ``InsufficientFunds``
    (nothing moved) when the balance is smaller than ``amount``."""
    if amount <= 0:
        raise ValueError("a withdrawal must be positive")
    with transaction.atomic():
        wallet = lock_wallet(wallet_id)  # the balance read below cannot change until commit
        if wallet.balance < amount:
            places = currency_places(wallet.currency)
            raise InsufficientFunds(
                f"The balance is {format_fixed(wallet.balance, places)} {wallet.currency}, less "
                f"than the {format_fixed(amount, places)} {wallet.currency} asked for. Nothing "
                "was withdrawn."
            )
        move_money(
            wallet, -amount, kind=LedgerKind.WITHDRAWAL, reason=reason, staff_user_id=staff_user_id
        )
        return wallet.balance


def session_revoke(*, token: str) -> bool:
    """Retire a session now; the provider's next call with its token is refused. False when
    there is no live session with that token."""
    live = PlayerSession.objects.filter(token=token, revoked_at__isnull=True)
    return live.update(revoked_at=timezone.now()) == 1


def session_create(
    *,
    account_id: str,
    provider: str,
    currency: str | None = None,
    ttl_seconds: int | None = None,
) -> PlayerSession:
    """Issue a game-session token for a player (Naga playerToken, Buffalo sid)."""
    player = Player.objects.get(account_id=account_id)
    wallets = Wallet.objects.filter(player=player)
    wallet = (wallets.filter(currency=currency.upper()) if currency else wallets).order_by("id")
    chosen = wallet.first()
    if chosen is None:
        raise Wallet.DoesNotExist(f"{account_id} has no {currency or ''} wallet".strip())
    ttl = ttl_seconds if ttl_seconds is not None else settings.PLAYER_SESSION_TTL_SECONDS
    return PlayerSession.objects.create(
        token=secrets.token_urlsafe(32),
        player=player,
        provider=provider,
        currency=chosen.currency,
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )


def session_find(*, token: str, provider: str, live_only: bool = True) -> PlayerSession | None:
    """The session behind a token, or None. ``live_only`` excludes expired and retired ones.

    Every Naga and Buffalo call starts here, so the lookup is one prepared statement rather than
    a query the ORM compiles each time (compiling it was 45 % of a Buffalo or Naga cancel's
    instructions).
    """
    sql = select_with_player_sql(PlayerSession, "x.token", "x.provider")  # token is unique
    row = hot_sql.fetch_one(sql, [token, provider])
    if row is None:
        return None
    session = with_player_from_row(PlayerSession, row)
    if live_only and (session.revoked_at is not None or session.expires_at <= timezone.now()):
        return None
    return session


def session_rotate(*, session: PlayerSession, ttl_seconds: int | None = None) -> PlayerSession:
    """Retire a session and issue its successor (Buffalo ``check``)."""
    with transaction.atomic():
        PlayerSession.objects.filter(pk=session.pk).update(revoked_at=timezone.now())
        return session_create(
            account_id=session.player.account_id,
            provider=session.provider,
            currency=session.currency,
            ttl_seconds=ttl_seconds,
        )
