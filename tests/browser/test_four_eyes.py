"""Four-eyes in a real browser at 1366x768, as two different staff users: Support proposes a
cancel-and-refund above the threshold, and a second person with the Approver role approves it
(the refund is applied) or rejects it (nothing moves). Screenshots for the support guide."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import Browser, Page

from tests.admin.conftest import ensure_roles
from tests.browser.conftest import LAPTOP, log_in, save_doc_image
from tests.helpers import balance, make_player
from wallet.models import AuditEntry, Bet, BetState, Proposal, ProposalStatus, Wallet
from wallet.services import bet_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "four-eyes-password-123"


@pytest.fixture
def staff_pair(settings) -> tuple[Any, Any]:
    settings.FOUR_EYES_THRESHOLD = "50"  # these tests hold above 50 in every currency
    ensure_roles()
    users = get_user_model().objects
    sam = users.create_user("sam", "", PASSWORD, is_staff=True)
    sam.groups.add(Group.objects.get(name="Support"))
    ada = users.create_user("ada", "", PASSWORD, is_staff=True)
    ada.groups.add(Group.objects.get(name="Approver"))
    return sam, ada


@pytest.fixture
def second_page(browser: Browser, live_server: Any) -> Iterator[Page]:
    """The approver's own browser (own cookies), beside the proposer's ``laptop_page``."""
    context = browser.new_context(base_url=live_server.url, viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _big_bet() -> Bet:
    make_player("player_42", "USD", "100")
    result = bet_open(
        provider="buffalo",
        bet_key="big-stake-9",
        tx_id="tx-9",
        account_id="player_42",
        currency="USD",
        amount=Decimal("75.00"),
        round_id="round-9",
    )
    assert result.bet is not None
    return Bet.objects.get(pk=result.bet.pk)


def _propose_cancel(page: Page, bet: Bet) -> Proposal:
    page.goto(f"/admin/wallet/bet/{bet.pk}/cancel/")
    assert "Needs a second person." in page.locator("#four-eyes-note").inner_text()
    page.fill("textarea[name=reason]", "Ticket BUF-9: provider lost the round")
    page.click("input[name=confirm]")
    page.wait_for_load_state()
    assert "waits for approval" in page.locator(".messagelist").inner_text()
    assert page.locator(".waiting-approval").count() == 1
    return Proposal.objects.get(bet=bet)


def _open_from_dashboard(page: Page, proposal: Proposal) -> None:
    page.goto("/admin/")
    waiting = page.locator("#approvals-waiting")
    assert "1 staff money action waiting for approval" in waiting.inner_text()
    waiting.locator("a").click()
    page.wait_for_load_state()
    page.click(f"a[href$='/admin/wallet/proposal/{proposal.pk}/change/']")
    page.wait_for_load_state()


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= LAPTOP["width"], f"the page is {width}px wide"


def test_propose_then_approve_as_two_people(laptop_page, second_page, staff_pair) -> None:
    bet = _big_bet()
    log_in(laptop_page, "sam", PASSWORD)
    proposal = _propose_cancel(laptop_page, bet)
    save_doc_image(laptop_page, "four-eyes-proposed")
    assert balance("player_42") == Decimal("25")  # nothing moved yet

    # The proposer sees why they cannot approve their own.
    laptop_page.goto(f"/admin/wallet/proposal/{proposal.pk}/change/")
    assert "You proposed this" in laptop_page.locator("#no-decision").inner_text()

    log_in(second_page, "ada", PASSWORD)
    _open_from_dashboard(second_page, proposal)
    assert "100.00 USD" in second_page.locator("#balance-after").inner_text()
    _fits(second_page)
    save_doc_image(second_page, "four-eyes-approve")
    second_page.fill("#id_approve-reason", "Checked the provider's back office")
    second_page.click("#approve-form input[type=submit]")
    second_page.wait_for_load_state()
    assert "Approved and applied" in second_page.locator(".messagelist").inner_text()

    assert balance("player_42") == Decimal("100")
    assert Bet.objects.get(pk=bet.pk).state == BetState.CANCELLED
    assert Proposal.objects.get().status == ProposalStatus.APPLIED
    applied = AuditEntry.objects.get(action="cancel_and_refund")
    assert applied.actor.username == "sam" and applied.after["approved_by"] == "ada"


def test_propose_then_reject_as_two_people(laptop_page, second_page, staff_pair) -> None:
    make_player("player_7", "USD", "100")
    wallet = Wallet.objects.get(player__account_id="player_7")
    log_in(laptop_page, "sam", PASSWORD)
    laptop_page.goto(f"/admin/wallet/wallet/{wallet.pk}/adjust/")
    laptop_page.check("input[name=direction][value=credit]")
    laptop_page.fill("input[name=amount]", "250,00")
    laptop_page.check("input[name=category][value=goodwill]")
    laptop_page.fill("textarea[name=reason]", "Ticket 88: game froze during a bonus round")
    laptop_page.click("input[name=preview]")
    laptop_page.wait_for_load_state()
    assert "+250.00 USD" in laptop_page.locator("#balance-effect").inner_text()
    assert "two hundred and fifty USD" in laptop_page.locator(".amount-words").inner_text()
    _fits(laptop_page)
    save_doc_image(laptop_page, "adjustment-confirmation")
    laptop_page.click("input[name=confirm]")
    laptop_page.wait_for_load_state()
    proposal = Proposal.objects.get()

    log_in(second_page, "ada", PASSWORD)
    _open_from_dashboard(second_page, proposal)
    second_page.fill("#id_reject-reason", "No record of a frozen game in the journal")
    second_page.click("#reject-form input[type=submit]")
    second_page.wait_for_load_state()
    assert "Rejected" in second_page.locator(".messagelist").inner_text()

    assert balance("player_7") == Decimal("100")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REJECTED
    assert proposal.decided_by is not None and proposal.decided_by.username == "ada"
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "proposal_made",
        "proposal_rejected",
    ]
