"""Read-only queries: which VP bets used a card, and which cards await a cancel retry.

How a card's use is found (the contract with the VP callbacks): a betNSettle/retryBet is a
wallet ``Bet`` with ``provider="vp"``, ``bet_key=betId`` and the spin ids of its
``gameInfo.spinID`` in ``details["spin_ids"]`` (a list of strings).

The bets are read here rather than pushed from the VP adapter, so the adapter stays pure
protocol and a card can always be re-derived from the bets. The search is narrowed by indexed
columns first (the card's player and the time since the card was created: index
``bet_player_recent``) and the spin ids are matched in Python, which works the same on SQLite
(no JSON ``contains`` there) and PostgreSQL, and needs no JSON index on the wallet's table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from providers.vp.cards.models import CardStatus, OperatorCard
from wallet.models import Bet, BetState

#: App servers' clocks may differ a little: a bet stamped slightly before its card still counts.
CLOCK_SKEW = timedelta(minutes=10)
#: Bet states that mean VP used the spin (a refused or tombstoned bet used nothing).
USED_STATES = (BetState.SETTLED, BetState.CANCELLED)


def spin_ids_of(bet: Bet) -> list[str]:
    ids = (bet.details or {}).get("spin_ids") or []
    if isinstance(ids, str):  # tolerate a single id stored as text
        ids = [ids]
    return [str(i) for i in ids] if isinstance(ids, list) else []


def bets_using_cards(cards: Iterable[OperatorCard]) -> dict[str, list[Bet]]:
    """The VP bets naming each card's spin id (settled or rolled back), oldest first."""
    by_player: dict[int, list[OperatorCard]] = defaultdict(list)
    for card in cards:
        by_player[card.player_id].append(card)
    found: dict[str, list[Bet]] = defaultdict(list)
    for player_id, player_cards in by_player.items():
        wanted = {card.spin_id for card in player_cards}
        since = min(card.created_at for card in player_cards) - CLOCK_SKEW
        for bet in _vp_bets_of_player(player_id, since):
            for spin_id in spin_ids_of(bet):
                if spin_id in wanted:
                    found[spin_id].append(bet)
    return found


def bets_using_card(card: OperatorCard) -> list[Bet]:
    return bets_using_cards([card]).get(card.spin_id, [])


def _vp_bets_of_player(player_id: int, since: datetime) -> QuerySet[Bet]:
    return (
        Bet.objects.filter(
            provider="vp", player_id=player_id, created_at__gte=since, state__in=USED_STATES
        )
        .exclude(details={})
        .only("id", "bet_key", "state", "win", "stake", "currency", "details", "created_at")
        .order_by("created_at", "id")
    )


def cards_to_refresh() -> QuerySet[OperatorCard]:
    """Cards whose use or expiry can still change their status or totals."""
    live = (CardStatus.ISSUED, CardStatus.IN_USE, CardStatus.CANCEL_PENDING)
    return OperatorCard.objects.filter(status__in=live).select_related("player")


def cards_awaiting_cancel_retry(now: datetime, lease: timedelta) -> QuerySet[OperatorCard]:
    """Cancel-pending cards with no VP call in flight (none, or one whose lease ran out)."""
    idle = Q(call_started_at__isnull=True) | Q(call_started_at__lt=now - lease)
    return (
        OperatorCard.objects.filter(status=CardStatus.CANCEL_PENDING)
        .filter(idle)
        .order_by("cancel_requested_at", "id")
    )
