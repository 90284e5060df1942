"""Cancelling a card: "cancelled" only when VP says 0; every other answer, and no answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from journal.models import JournalEntry
from providers.vp.cards.models import CardStatus, CardStatusChange, OperatorCard
from providers.vp.cards.services import (
    CardAction,
    CardInputError,
    CardResult,
    call_lease,
    card_cancel,
    card_retry_cancel,
)
from tests.providers.vp_cards.conftest import SLOW, make_staff
from tests.providers.vp_cards.fake_vp import FakeVp, closed_port_url

pytestmark = pytest.mark.django_db

CANCEL = "/v2/items/cancel"


@pytest.fixture
def staff():
    return make_staff("canceller", "cancel_operatorcard")


def cancel(card: OperatorCard, actor=None, reason: str = "player asked") -> CardResult:
    return card_cancel(card_id=card.pk, actor=actor, reason=reason)


def reload(card: OperatorCard) -> OperatorCard:
    return OperatorCard.objects.get(pk=card.pk)


def last_change(card: OperatorCard) -> CardStatusChange:
    change = CardStatusChange.objects.filter(card=card).order_by("-id").first()
    assert change is not None
    return change


def test_vp_confirms_the_cancel(fake_vp: FakeVp, issued_card: OperatorCard, staff) -> None:
    result = cancel(issued_card, staff, "sent to the wrong player")
    card = reload(issued_card)
    assert result.action is CardAction.CANCELLED and result.level == "success"
    assert result.message == f"{card.spin_id}: cancelled."
    assert card.status == CardStatus.CANCELLED and card.last_vp_code == 0
    assert card.cancel_requested_by == staff and card.cancel_reason == "sent to the wrong player"
    assert card.cancel_attempts == 1 and card.call_token == ""
    changes = list(CardStatusChange.objects.filter(card=card).order_by("id"))
    assert [(c.from_status, c.to_status) for c in changes][-2:] == [
        ("issued", "cancel_pending"),
        ("cancel_pending", "cancelled"),
    ]
    assert changes[-2].reason == "sent to the wrong player" and changes[-2].actor == staff
    assert changes[-1].vp_code == 0 and changes[-1].vp_log_uuid
    assert fake_vp.card(card.spin_id).state == "cancelled"  # type: ignore[union-attr]
    journal = JournalEntry.objects.get(action="items/cancel")
    assert journal.payload == {"username": "alice", "spinId": card.spin_id}
    assert journal.request_id == changes[-1].vp_log_uuid


def test_a_reason_is_required(fake_vp: FakeVp, issued_card: OperatorCard) -> None:
    with pytest.raises(CardInputError):
        cancel(issued_card, reason="   ")
    assert reload(issued_card).status == CardStatus.ISSUED and fake_vp.calls(CANCEL) == []


def test_cancelling_twice_asks_vp_once(fake_vp: FakeVp, issued_card: OperatorCard) -> None:
    cancel(issued_card)
    again = cancel(issued_card)
    assert again.action is CardAction.ALREADY_CANCELLED and again.level == "info"
    assert len(fake_vp.calls(CANCEL)) == 1


def test_a_card_the_player_started_is_not_cancelled(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    fake_vp.player_starts(issued_card.spin_id)
    result = cancel(issued_card)
    card = reload(issued_card)
    assert result.action is CardAction.FINISHED_AT_VP and result.vp_code == 4
    assert "already used or completed (VP code 4)" in result.message
    assert card.status == CardStatus.COMPLETED  # never "cancelled": VP did not cancel it
    assert "not cancelled by us" in last_change(card).reason
    assert last_change(card).vp_code == 4


def test_an_unknown_member_leaves_the_card_as_it_was(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    fake_vp.state.members.discard("alice")
    result = cancel(issued_card)
    card = reload(issued_card)
    assert result.action is CardAction.MEMBER_UNKNOWN and result.vp_code == 8
    assert "VP does not know member 'alice' (VP code 8)" in result.message
    assert card.status == CardStatus.ISSUED
    assert (last_change(card).from_status, last_change(card).to_status) == (
        "cancel_pending",
        "issued",
    )


@pytest.mark.parametrize("code", [5, 11, 78, 86])
def test_other_final_refusals_leave_the_card_as_it_was(
    fake_vp: FakeVp, issued_card: OperatorCard, code: int
) -> None:
    fake_vp.then(CANCEL, code=code)
    result = cancel(issued_card)
    assert result.action is CardAction.CANCEL_REFUSED and result.level == "error"
    assert reload(issued_card).status == CardStatus.ISSUED
    assert f"VP code {code}" in result.message


@pytest.mark.parametrize("code", [7, 10, 20, 77, 84, 85, 999])
def test_transient_or_configuration_failures_leave_the_cancel_pending(
    fake_vp: FakeVp, issued_card: OperatorCard, code: int
) -> None:
    fake_vp.then(CANCEL, code=code)
    result = cancel(issued_card)
    card = reload(issued_card)
    assert result.action is CardAction.CANCEL_PENDING and result.level == "warning"
    assert card.status == CardStatus.CANCEL_PENDING and card.last_vp_code == code
    assert card.call_token == ""  # released: the retry command may take it at once
    assert "not cancelled until VP confirms" in result.message


def test_persistent_authentication_failure_leaves_the_cancel_pending(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    fake_vp.then(CANCEL, code=83)
    fake_vp.then(CANCEL, code=83)
    assert cancel(issued_card).action is CardAction.CANCEL_PENDING
    assert len(fake_vp.calls(CANCEL)) == 2


@pytest.mark.parametrize("behaviour", [{"delay": SLOW}, {"drop": True}], ids=["timeout", "dropped"])
def test_no_answer_leaves_the_cancel_pending(
    fake_vp: FakeVp, issued_card: OperatorCard, behaviour: dict
) -> None:
    fake_vp.then(CANCEL, **behaviour, apply=True)  # VP did cancel; we never heard
    result = cancel(issued_card)
    assert result.action is CardAction.CANCEL_PENDING
    assert reload(issued_card).status == CardStatus.CANCEL_PENDING
    # Asking again gets VP's idempotent answer: the same as the lost one.
    again = cancel(issued_card, reason="second try")
    card = reload(issued_card)
    assert again.action is CardAction.CANCELLED and card.status == CardStatus.CANCELLED
    assert card.cancel_reason == "player asked"  # the first request's reason stands
    assert card.cancel_attempts == 2


def test_an_unreachable_vp_leaves_the_cancel_pending(
    fake_vp: FakeVp, issued_card: OperatorCard, settings
) -> None:
    settings.VP_BASE_URL = closed_port_url()
    result = cancel(issued_card)
    assert result.action is CardAction.CANCEL_PENDING and "unreachable" in result.message
    assert reload(issued_card).status == CardStatus.CANCEL_PENDING


@pytest.mark.parametrize("status", ["pending", "failed", "completed", "expired"])
def test_cards_that_cannot_be_cancelled_are_not_sent(
    fake_vp: FakeVp, issued_card: OperatorCard, status: str
) -> None:
    OperatorCard.objects.filter(pk=issued_card.pk).update(status=status)
    result = cancel(issued_card)
    assert result.action is CardAction.NOT_ALLOWED and "cannot be cancelled" in result.message
    assert reload(issued_card).status == status and fake_vp.calls(CANCEL) == []


def test_a_card_in_use_is_still_asked_about(fake_vp: FakeVp, issued_card: OperatorCard) -> None:
    """VP decides: it may cancel the unused rest of a card (the seed), or refuse with 4."""
    OperatorCard.objects.filter(pk=issued_card.pk).update(status=CardStatus.IN_USE)
    result = cancel(issued_card)
    assert result.action is CardAction.CANCELLED
    assert reload(issued_card).status_before_cancel == CardStatus.IN_USE


def test_a_cancel_in_flight_is_not_sent_twice(fake_vp: FakeVp, issued_card: OperatorCard):
    OperatorCard.objects.filter(pk=issued_card.pk).update(
        status=CardStatus.CANCEL_PENDING, call_token="other", call_started_at=timezone.now()
    )
    result = cancel(issued_card)
    assert result.action is CardAction.IN_PROGRESS and fake_vp.calls(CANCEL) == []


def test_a_claim_whose_holder_died_is_taken_over(fake_vp: FakeVp, issued_card: OperatorCard):
    stale = timezone.now() - call_lease() - timedelta(seconds=1)
    OperatorCard.objects.filter(pk=issued_card.pk).update(
        status=CardStatus.CANCEL_PENDING,
        status_before_cancel=CardStatus.ISSUED,
        call_token="dead-worker",
        call_started_at=stale,
    )
    result = cancel(issued_card)
    assert result.action is CardAction.CANCELLED and len(fake_vp.calls(CANCEL)) == 1


@pytest.mark.parametrize("code", [4, 5, 7, 8, 10, 11, 20, 77, 78, 83, 84, 85, 86, 999])
def test_no_answer_but_zero_ever_shows_cancelled(
    fake_vp: FakeVp, issued_card: OperatorCard, code: int
) -> None:
    for _ in range(2):
        fake_vp.then(CANCEL, code=code)
    cancel(issued_card)
    assert reload(issued_card).status != CardStatus.CANCELLED


def test_the_cancel_of_each_card_names_its_own_player(
    fake_vp: FakeVp, issue: Callable[..., CardResult]
) -> None:
    first, second = issue().card, issue().card
    cancel(second)
    assert fake_vp.calls(CANCEL)[0].payload == {"username": "alice", "spinId": second.spin_id}
    assert reload(first).status == CardStatus.ISSUED


def test_a_pending_cancel_of_a_card_that_expired_meanwhile_shows_it_expired(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    """VP was down for days; by the time the retry reaches it, the card has expired."""
    past = timezone.now() - timedelta(minutes=1)
    OperatorCard.objects.filter(pk=issued_card.pk).update(
        status=CardStatus.CANCEL_PENDING, status_before_cancel=CardStatus.ISSUED, expires_at=past
    )
    fake_vp.then(CANCEL, code=4)
    result = card_retry_cancel(card_id=issued_card.pk)
    assert result.action is CardAction.FINISHED_AT_VP
    assert "it had expired unused (VP code 4)" in result.message
    assert reload(issued_card).status == CardStatus.EXPIRED
