"""The operator API's Swagger UI, in Chromium: served from the package (no CDN), describing every
endpoint, and usable by signed-in staff with their session and their role."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.admin.conftest import PASSWORD, open_bet, staff
from tests.browser.conftest import ensure_all_roles, log_in, save_doc_image
from tests.helpers import balance, make_player

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_try_a_cancel_from_the_api_docs(laptop_page, live_server) -> None:
    ensure_all_roles()
    staff("sam", "Support")
    make_player("alice", balance="50")
    bet = open_bet("docs-1", amount="5")
    outside = []
    laptop_page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:"))
            else outside.append(request.url)
        ),
    )
    log_in(laptop_page, "sam", PASSWORD)
    laptop_page.goto("/api/v1/docs/")
    laptop_page.wait_for_selector(".opblock")
    assert laptop_page.locator(".opblock").count() == 23
    save_doc_image(laptop_page, "api-docs", full_page=False)

    block = laptop_page.locator("#operations-bets-bets_cancel_create")
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    block.locator("input[placeholder='id']").fill(str(bet.pk))
    block.locator("textarea.body-param__text").fill('{"reason": "void round, tried from the docs"}')
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert balance("alice") == Decimal("50")  # refunded
    assert outside == [], outside
