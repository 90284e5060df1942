"""Concurrent cancels of one card send one cancel to VP (real threads, PostgreSQL row locks)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from providers.vp.cards.models import CardStatus, CardStatusChange, OperatorCard
from providers.vp.cards.services import (
    CardAction,
    CardResult,
    card_cancel,
    cards_retry_cancels,
)
from tests.helpers import run_concurrently
from tests.providers.conftest import RACE
from tests.providers.vp_cards.fake_vp import FakeVp, closed_port_url

pytestmark = RACE

CANCEL = "/v2/items/cancel"
VP_THINKS = 0.3  # VP's answer takes this long (under the read timeout): clicks overlap it


def transitions(card: OperatorCard) -> list[tuple[str, str]]:
    return list(
        CardStatusChange.objects.filter(card=card)
        .order_by("id")
        .values_list("from_status", "to_status")
    )


def test_six_simultaneous_cancels_of_one_card_send_one_cancel(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    fake_vp.then(CANCEL, delay=VP_THINKS)
    tasks = [
        (lambda n=n: card_cancel(card_id=issued_card.pk, actor=None, reason=f"click {n}"))
        for n in range(6)
    ]
    results = run_concurrently(tasks)
    assert all(isinstance(r, CardResult) for r in results), results
    actions = Counter(r.action for r in results)  # type: ignore[union-attr]
    assert actions[CardAction.CANCELLED] == 1, actions
    assert set(actions) <= {
        CardAction.CANCELLED,
        CardAction.IN_PROGRESS,
        CardAction.ALREADY_CANCELLED,
    }
    assert len(fake_vp.calls(CANCEL)) == 1
    card = OperatorCard.objects.get(pk=issued_card.pk)
    assert card.status == CardStatus.CANCELLED and card.cancel_attempts == 1
    assert transitions(card) == [
        ("", "pending"),
        ("pending", "issued"),
        ("issued", "cancel_pending"),
        ("cancel_pending", "cancelled"),
    ]


def test_two_cron_runs_at_once_resend_each_pending_cancel_once(
    fake_vp: FakeVp, issue: Callable[..., CardResult], settings
) -> None:
    cards = [issue().card for _ in range(3)]
    vp_url = settings.VP_BASE_URL
    settings.VP_BASE_URL = closed_port_url()
    for card in cards:
        card_cancel(card_id=card.pk, actor=None, reason="VP was down")
    settings.VP_BASE_URL = vp_url
    for _ in cards:
        fake_vp.then(CANCEL, delay=VP_THINKS / 3)
    results = run_concurrently([cards_retry_cancels, cards_retry_cancels])
    assert not [r for r in results if isinstance(r, BaseException)], results
    sent = [c.payload["spinId"] for c in fake_vp.calls(CANCEL) if c.payload]
    assert sorted(sent) == sorted(c.spin_id for c in cards)  # each exactly once
    statuses = set(
        OperatorCard.objects.filter(pk__in=[c.pk for c in cards]).values_list("status", flat=True)
    )
    assert statuses == {CardStatus.CANCELLED}


def test_a_staff_cancel_racing_the_retry_command_sends_one_cancel(
    fake_vp: FakeVp, issued_card: OperatorCard, settings
) -> None:
    vp_url = settings.VP_BASE_URL
    settings.VP_BASE_URL = closed_port_url()
    card_cancel(card_id=issued_card.pk, actor=None, reason="first try")
    settings.VP_BASE_URL = vp_url
    fake_vp.then(CANCEL, delay=VP_THINKS)
    results = run_concurrently(
        [
            cards_retry_cancels,
            lambda: card_cancel(card_id=issued_card.pk, actor=None, reason="again"),
        ]
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len(fake_vp.calls(CANCEL)) == 1
    assert OperatorCard.objects.get(pk=issued_card.pk).status == CardStatus.CANCELLED
