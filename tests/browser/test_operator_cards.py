"""Support staff cancel an operator card with a reason, in a real browser (headless Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from providers.vp.cards.models import CardStatus, CardStatusChange, OperatorCard
from providers.vp.cards.services import card_issue
from tests.conftest import TEST_PROVIDER_SETTINGS
from tests.helpers import make_player
from tests.providers.vp_cards.conftest import issue_args, make_staff
from tests.providers.vp_cards.fake_vp import FakeVp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Sent to the wrong player by mistake"


@pytest.fixture
def vp(settings: Any) -> Iterator[FakeVp]:
    server = FakeVp(
        agent_id=str(TEST_PROVIDER_SETTINGS["VP_AGENT_ID"]),
        api_key_hex=str(TEST_PROVIDER_SETTINGS["VP_API_KEY"]),
        secret=str(TEST_PROVIDER_SETTINGS["VP_SECRET_KEY"]),
    ).start()
    settings.VP_BASE_URL = server.url
    server.add_member("alice")
    yield server
    server.stop()


def test_support_cancels_a_card_with_a_reason(page, login, screenshot, vp: FakeVp) -> None:
    make_staff("support", "issue_operatorcard", "cancel_operatorcard")
    card = card_issue(**issue_args(make_player("alice", "USD", "100"))).card
    other = card_issue(**issue_args(OperatorCard.objects.get(pk=card.pk).player)).card
    assert card.status == other.status == CardStatus.ISSUED

    login("support", "pw-support")
    page.goto("/admin/operator_cards/operatorcard/")
    page.check(f"input[name=_selected_action][value='{card.pk}']")
    page.select_option("select[name=action]", "cancel_cards")
    page.click("button[name=index]")
    page.wait_for_load_state()

    assert "Yes, cancel at VP" in page.content()
    assert vp.calls("/v2/items/cancel") == []  # nothing is sent before the confirmation
    page.fill("textarea[name=reason]", REASON)
    screenshot("operator-card-cancel-confirmation")
    page.click("#confirm-cancel")
    page.wait_for_load_state()

    messages = page.locator("ul.messagelist").inner_text()
    assert f"{card.spin_id}: cancelled." in messages
    screenshot("operator-card-cancelled")
    card.refresh_from_db()
    assert card.status == CardStatus.CANCELLED and card.cancel_reason == REASON
    assert card.cancel_requested_by is not None
    assert card.cancel_requested_by.username == "support"
    change = CardStatusChange.objects.get(card=card, to_status="cancel_pending")
    assert change.reason == REASON
    assert [c.payload for c in vp.calls("/v2/items/cancel")] == [
        {"username": "alice", "spinId": card.spin_id}
    ]
    assert OperatorCard.objects.get(pk=other.pk).status == CardStatus.ISSUED
