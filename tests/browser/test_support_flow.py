"""A support user's whole flow in a real browser: dashboard → stuck count → bet → cancel and
refund with a reason → the new balance and the audit row. Screenshots of the dashboard and the
bet page are saved under artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.admin.conftest import ensure_roles
from tests.helpers import balance, make_player
from wallet.models import AuditEntry, Bet
from wallet.services import bet_cancel, bet_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "support-password-123"


@pytest.fixture
def stuck_bet(settings) -> Bet:
    settings.STUCK_AFTER_MINUTES = "buffalo:10"
    make_player("player_42", "USD", "100")
    result = bet_open(
        provider="buffalo",
        bet_key="stuck-debit-7",
        tx_id="tx-7",
        account_id="player_42",
        currency="USD",
        amount=Decimal("12.50"),
        round_id="round-7",
    )
    assert result.bet is not None
    Bet.objects.filter(pk=result.bet.pk).update(created_at=timezone.now() - timedelta(hours=2))
    # A few provider cancels over the last hours, so that the dashboard's chart has bars.
    for n, hours_ago in enumerate((0, 1, 1, 3, 5)):
        key = f"cancelled-{n}"
        bet_open(
            provider="naga" if n % 2 else "buffalo",
            bet_key=key,
            tx_id=f"tx-{key}",
            account_id="player_42",
            currency="USD",
            amount=Decimal("1"),
        )
        bet_cancel(provider="naga" if n % 2 else "buffalo", bet_keys=[key], tx_id=f"c-{key}")
        Bet.objects.filter(bet_key=key).update(
            cancelled_at=timezone.now() - timedelta(hours=hours_ago)
        )
    return Bet.objects.get(pk=result.bet.pk)


def test_support_user_finds_and_refunds_a_stuck_bet(page, login, screenshot, stuck_bet) -> None:
    ensure_roles()
    user = get_user_model().objects.create_user("sam", "", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))

    login("sam", PASSWORD)
    assert page.url.endswith("/admin/")
    stuck_link = page.locator('a[data-reason="open_too_long"][data-provider="buffalo"]')
    assert stuck_link.inner_text() == "1"
    assert "Buffalo stuck-debit-7" in page.locator("#oldest-stuck").inner_text()
    screenshot("support-dashboard")

    stuck_link.click()
    page.wait_for_load_state()
    assert "stuck=open_too_long" in page.url
    page.get_by_role("link", name="stuck-debit-7").click()
    page.wait_for_load_state()
    assert "Open too long" in page.locator("#bet-attention").inner_text()
    assert "87.50 USD" in page.locator("#bet-summary").inner_text()  # balance now

    page.click("#action-cancel")
    page.wait_for_load_state()
    effect = page.locator("#balance-effect").inner_text()
    assert "87.50 USD" in effect and "100.00 USD" in effect
    page.fill("textarea[name=reason]", "Provider ticket BUF-1234: round never started")
    page.click("input[name=confirm]")
    page.wait_for_load_state()

    assert f"/admin/wallet/bet/{stuck_bet.pk}/change/" in page.url
    message = page.locator("ul.messagelist").inner_text()
    assert "player_42's balance: 87.50 USD → 100.00 USD" in message
    assert "Cancelled" in page.locator("#bet-state").inner_text()
    audit = page.locator("#bet-audit tr.audit-row").inner_text()
    assert "sam" in audit and "Provider ticket BUF-1234" in audit and "100.00 USD" in audit
    assert "Stake refunded +12.50" in page.locator("#bet-history").inner_text()
    screenshot("support-bet-page")

    assert balance("player_42", "USD") == Decimal("100")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action) == (user, "cancel_and_refund")


def test_read_only_staff_see_no_money_action(page, login, stuck_bet) -> None:
    ensure_roles()
    user = get_user_model().objects.create_user("rae", "", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Read-only"))
    login("rae", PASSWORD)
    page.goto(f"/admin/wallet/bet/{stuck_bet.pk}/change/")
    assert page.locator("#action-cancel").count() == 0
    assert "needs the Support role" in page.locator("#no-actions").inner_text()
