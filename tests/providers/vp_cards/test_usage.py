"""A card's use and wins come from VP's bets naming its spin id (details["spin_ids"])."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from providers.vp.cards import selectors
from providers.vp.cards.models import CardStatus, CardStatusChange, OperatorCard
from providers.vp.cards.services import CardAction, CardResult, card_cancel, card_refresh_usage
from tests.helpers import make_player
from tests.providers.vp_cards.fake_vp import FakeVp
from wallet.models import Bet
from wallet.services import SettledRoundPolicy, bet_cancel, bet_place_and_settle

pytestmark = pytest.mark.django_db

D = Decimal


def vp_spin(
    key: str, spin_ids: list[str] | str | None, win: str, account: str = "alice", stake: str = "0"
):
    details = {} if spin_ids is None else {"spin_ids": spin_ids}
    return bet_place_and_settle(
        provider="vp",
        bet_key=key,
        tx_id=key,
        account_id=account,
        currency="USD",
        stake=D(stake),
        win=D(win),
        round_id=f"round-{key}",
        game_code="VP_SLOT_1",
        details=details,
    )


def reload(card: OperatorCard) -> OperatorCard:
    return OperatorCard.objects.get(pk=card.pk)


def test_a_bet_naming_the_spin_id_puts_the_card_in_use_and_counts_its_win(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    vp_spin("b1", [issued_card.spin_id], "2.50")
    vp_spin("b2", [issued_card.spin_id, "someone-elses"], "0.75")
    vp_spin("b3", None, "100")  # a normal bet: no card
    vp_spin("b4", ["another-card"], "50")
    assert card_refresh_usage() == 1
    card = reload(issued_card)
    assert card.status == CardStatus.IN_USE
    assert card.spins_played == 2 and card.win_total == D("3.25")
    change = CardStatusChange.objects.filter(card=card).order_by("-id").first()
    assert change is not None and change.actor is None and "b1" in change.reason
    assert [b.bet_key for b in selectors.bets_using_card(card)] == ["b1", "b2"]


def test_bets_of_another_player_do_not_count(fake_vp: FakeVp, issued_card: OperatorCard) -> None:
    make_player("mallory", "USD", "10")
    vp_spin("m1", [issued_card.spin_id], "9", account="mallory")
    card_refresh_usage()
    assert reload(issued_card).status == CardStatus.ISSUED


def test_refused_and_reversed_spins_count_nothing_a_kept_rollback_still_counts(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    vp_spin("poor", [issued_card.spin_id], "5", stake="1000")  # refused: insufficient funds
    vp_spin("kept", [issued_card.spin_id], "4")
    bet_cancel(provider="vp", bet_keys=["kept"])  # rollback of a settled round: it stands
    vp_spin("reversed", [issued_card.spin_id], "7")
    bet_cancel(provider="vp", bet_keys=["reversed"], settled_policy=SettledRoundPolicy.REVERSE)
    card_refresh_usage()
    card = reload(issued_card)
    assert Bet.objects.get(bet_key="poor").state == "refused"
    assert Bet.objects.get(bet_key="reversed").state == "cancelled"
    assert card.spins_played == 1 and card.win_total == D("4")


def test_all_rounds_played_completes_the_card(
    fake_vp: FakeVp, issue: Callable[..., CardResult]
) -> None:
    card = issue(game_code="VP_SLOT_1", card_type=2, rounds=2).card
    vp_spin("r1", [card.spin_id], "1")
    vp_spin("r2", [card.spin_id], "1.5")
    card_refresh_usage()
    card = reload(card)
    assert card.status == CardStatus.COMPLETED and card.win_total == D("2.5")
    assert "2 of 2 rounds" in CardStatusChange.objects.filter(card=card).last().reason  # type: ignore[union-attr]


def test_expiry_marks_unused_cards_expired_and_used_ones_completed(
    fake_vp: FakeVp, issue: Callable[..., CardResult]
) -> None:
    unused, used = issue().card, issue().card
    vp_spin("u1", [used.spin_id], "1")
    OperatorCard.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert card_refresh_usage() == 2
    assert reload(unused).status == CardStatus.EXPIRED
    assert reload(used).status == CardStatus.COMPLETED


def test_a_single_spin_id_stored_as_text_is_understood(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    vp_spin("t1", issued_card.spin_id, "1")
    card_refresh_usage()
    assert reload(issued_card).spins_played == 1


def test_bets_long_before_the_card_do_not_count(fake_vp: FakeVp, issued_card: OperatorCard):
    vp_spin("old", [issued_card.spin_id], "1")
    Bet.objects.filter(bet_key="old").update(created_at=timezone.now() - timedelta(hours=1))
    card_refresh_usage()
    assert reload(issued_card).spins_played == 0


def test_a_cancel_refreshes_use_first_and_totals_stay_on_cancelled_cards(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    vp_spin("c1", [issued_card.spin_id], "3")
    result = card_cancel(card_id=issued_card.pk, actor=None, reason="abuse")
    card = reload(issued_card)
    # VP (the fake) does not know the player spun; it cancels the rest of the card.
    assert result.action is CardAction.CANCELLED
    assert card.status_before_cancel == CardStatus.IN_USE
    vp_spin("c2", [issued_card.spin_id], "2")  # a spin VP had in flight
    card_refresh_usage(cards=[card])
    card = reload(card)
    assert card.status == CardStatus.CANCELLED and card.win_total == D("5")
