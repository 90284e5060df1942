"""``manage.py retry_card_cancels``: resends pending cancels until VP gives a final answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from providers.vp.cards.models import CardStatus, CardStatusChange, OperatorCard
from providers.vp.cards.services import CardResult, card_cancel, cards_retry_cancels
from tests.providers.vp_cards.fake_vp import FakeVp, closed_port_url

pytestmark = pytest.mark.django_db

CANCEL = "/v2/items/cancel"


@pytest.fixture
def pending_card(fake_vp: FakeVp, issued_card: OperatorCard, settings) -> OperatorCard:
    """A card whose cancel could not reach VP (VP was down)."""
    vp_url = settings.VP_BASE_URL
    settings.VP_BASE_URL = closed_port_url()
    card_cancel(card_id=issued_card.pk, actor=None, reason="duplicate gift")
    settings.VP_BASE_URL = vp_url  # VP is back
    issued_card.refresh_from_db()
    assert issued_card.status == CardStatus.CANCEL_PENDING
    return issued_card


def run() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("retry_card_cancels", stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_pending_cancel_is_completed_when_vp_is_back(
    fake_vp: FakeVp, pending_card: OperatorCard
) -> None:
    code, output = run()
    pending_card.refresh_from_db()
    assert code == 0
    assert pending_card.status == CardStatus.CANCELLED and pending_card.cancel_attempts == 2
    assert f"{pending_card.spin_id}: cancelled." in output
    assert "retried 1: 1 cancelled; 0 still cancel pending" in output
    last = CardStatusChange.objects.filter(card=pending_card).last()
    assert last is not None and last.actor is None
    assert last.reason == "VP confirmed the cancel (resent by retry_card_cancels)"
    assert fake_vp.card(pending_card.spin_id).state == "cancelled"  # type: ignore[union-attr]


def test_while_vp_stays_down_the_card_stays_pending_and_the_run_fails(
    fake_vp: FakeVp, pending_card: OperatorCard, settings
) -> None:
    settings.VP_BASE_URL = closed_port_url()
    code, output = run()
    pending_card.refresh_from_db()
    assert code == 1 and "1 still cancel pending" in output
    assert pending_card.status == CardStatus.CANCEL_PENDING and pending_card.cancel_attempts == 2


def test_a_card_used_meanwhile_becomes_completed_not_cancelled(
    fake_vp: FakeVp, pending_card: OperatorCard
) -> None:
    fake_vp.player_starts(pending_card.spin_id)
    code, output = run()
    pending_card.refresh_from_db()
    assert code == 0 and "already used or completed (VP code 4)" in output
    assert pending_card.status == CardStatus.COMPLETED


def test_a_cancel_lost_in_transit_is_confirmed_by_the_retry(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    fake_vp.then(CANCEL, drop=True, apply=True)
    card_cancel(card_id=issued_card.pk, actor=None, reason="dup")
    run()
    issued_card.refresh_from_db()
    assert issued_card.status == CardStatus.CANCELLED
    assert [c.code for c in fake_vp.calls(CANCEL)] == [0, 0]  # VP's idempotent repeat


def test_cards_being_sent_right_now_are_left_alone(
    fake_vp: FakeVp, pending_card: OperatorCard
) -> None:
    OperatorCard.objects.filter(pk=pending_card.pk).update(
        call_token="busy", call_started_at=timezone.now() - timedelta(seconds=1)
    )
    code, output = run()
    assert code == 0 and "retried 0" in output and fake_vp.calls(CANCEL) == []


def test_other_cards_are_not_touched_and_limit_is_honoured(
    fake_vp: FakeVp, issue: Callable[..., CardResult], settings
) -> None:
    untouched = issue().card
    cards = [issue().card for _ in range(3)]
    vp_url = settings.VP_BASE_URL
    settings.VP_BASE_URL = closed_port_url()
    for card in cards:
        card_cancel(card_id=card.pk, actor=None, reason="batch")
    settings.VP_BASE_URL = vp_url
    results = cards_retry_cancels(limit=2)
    assert len(results) == 2
    statuses = sorted(
        OperatorCard.objects.filter(pk__in=[c.pk for c in cards]).values_list("status", flat=True)
    )
    assert statuses == ["cancel_pending", "cancelled", "cancelled"]
    assert OperatorCard.objects.get(pk=untouched.pk).status == CardStatus.ISSUED
