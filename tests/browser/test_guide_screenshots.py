"""The support guide's pictures (docs/img/), taken at 1366x768 right after ``manage.py demo``:
the dashboard, a stuck bet's page and an operator card's page, as the Support role sees them.

Each picture is taken after checking the page shows what the guide says it shows, so a picture
of a broken page fails the test instead of reaching the guide.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from providers.vp.cards.models import CardStatusChange, OperatorCard
from tests.browser.conftest import ensure_all_roles, log_in, save_doc_image
from wallet.models import Bet, Player
from wallet.selectors import StuckReason, stuck_bets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings: Any) -> None:
    settings.DEMO_KEYS = True
    ensure_all_roles()
    call_command("demo", "--no-migrate", verbosity=0, stdout=io.StringIO())


def test_the_dashboard_and_a_stuck_bet_for_the_guide(laptop_page, demo) -> None:
    from wallet.management.commands.demo import DEMO_STAFF

    username, password, _ = DEMO_STAFF[0]
    log_in(laptop_page, username, password)
    # Right after the demo every stuck column has a bet (issue 20: nothing empty on first look).
    for reason in StuckReason:
        total = laptop_page.locator(f'a[data-reason="{reason.value}"]')
        assert sum(int(t) for t in total.all_inner_texts()) >= 1, reason
    axis = laptop_page.locator("#chart-axis").inner_text()
    assert axis.count("UTC") >= 2
    assert save_doc_image(laptop_page, "dashboard").stat().st_size > 10_000

    stuck = stuck_bets(StuckReason.OPEN_TOO_LONG).first()
    assert stuck is not None
    laptop_page.goto(f"/admin/wallet/bet/{stuck.pk}/change/")
    assert "Open too long" in laptop_page.locator("#bet-attention").inner_text()
    assert laptop_page.locator("#action-resolve").count() == 1
    assert save_doc_image(laptop_page, "stuck-bet").stat().st_size > 10_000


def test_an_operator_card_page_for_the_guide(laptop_page, demo) -> None:
    from wallet.management.commands.demo import DEMO_STAFF

    card = OperatorCard.objects.create(
        spin_id="OC2612061a2b3c4d5e6f",
        vp_item_id="vp-item-88123",
        player=Player.objects.get(account_id="demo_alice"),
        currency="USD",
        game_code="vp-lucky-panda",
        card_type=1,
        rounds=20,
        bet_amount=Decimal("0.5"),
        expires_at=timezone.now() + timedelta(days=7),
        status="issued",
        last_vp_code=20,
        last_message="VP code 20: wallet is locked by game, please retry later",
        issue_reason="Goodwill for ticket SUP-311 (player lost connection mid-round)",
    )
    CardStatusChange.objects.create(
        card=card, from_status="pending", to_status="issued", reason="VP accepted the card"
    )
    username, password, _ = DEMO_STAFF[0]
    log_in(laptop_page, username, password)
    laptop_page.goto(f"/admin/operator_cards/operatorcard/{card.pk}/change/")
    page = laptop_page.locator("#content").inner_text()
    assert "The player's wallet at VP was busy" in page
    assert "wallet is locked by game" in page  # VP's own words, for engineers
    assert "0.50 USD" in page
    assert save_doc_image(laptop_page, "card").stat().st_size > 10_000
    assert Bet.objects.exists()
