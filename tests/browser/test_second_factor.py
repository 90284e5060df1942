"""The second factor in a real browser, with STAFF_2FA_REQUIRED on: a new staff login is sent
to set up an authenticator app, sets it up with a code computed here from the key the page
shows, signs out, signs in with the password and a code, and reaches the dashboard; a wrong
code is refused and counted; a recovery code works once.

The set-up, recovery-code and code pages are the support guide's pictures (docs/img/, with
``UPDATE_GUIDE_IMAGES=1``), each taken after checking the page shows what the guide says.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from backoffice.second_factor.models import SignInEvent
from tests.admin.conftest import PASSWORD, staff
from tests.browser.conftest import save_doc_image
from tests.second_factor_kit import RECOVERY_CODES, Authenticator, give_second_factor
from wallet.models import StaffLoginFailure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE_PAGE = "/admin/second-factor/"
SET_UP_PAGE = "/admin/second-factor/set-up/"


@pytest.fixture
def required(settings: Any) -> None:
    settings.STAFF_2FA_REQUIRED = True


def type_password(page: Page, username: str) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def type_code(page: Page, code: str) -> None:
    page.fill("#id_code", code)
    page.click("#second-factor-form input[type=submit]")
    page.wait_for_load_state()


def sign_out(page: Page) -> None:
    page.click("#logout-form button")
    page.wait_for_load_state()
    assert "Logged out" in page.content()


def on_dashboard(page: Page) -> bool:
    return page.url.endswith("/admin/") and "Support dashboard" in page.content()


def test_set_up_sign_out_and_sign_in_with_a_code(laptop_page: Page, required) -> None:
    page = laptop_page
    sam = staff("sam_support", "Support")
    type_password(page, "sam_support")
    assert SET_UP_PAGE in page.url
    assert page.locator("#second-factor-qr").is_visible()
    secret = page.locator("#second-factor-secret").inner_text()
    assert len(secret.replace(" ", "")) == 32  # 20 random bytes in base32
    assert save_doc_image(page, "second-factor-set-up").stat().st_size > 10_000
    phone = Authenticator(secret)

    type_code(page, phone.code())
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert "They are shown only now" in page.content()
    assert save_doc_image(page, "second-factor-recovery-codes").stat().st_size > 10_000
    page.click("#second-factor-continue")
    page.wait_for_load_state()
    assert on_dashboard(page)
    sign_out(page)

    type_password(page, "sam_support")
    assert CODE_PAGE in page.url and SET_UP_PAGE not in page.url
    assert save_doc_image(page, "second-factor-code").stat().st_size > 5_000
    type_code(page, phone.wrong_code())
    assert "That code is not right" in page.content()
    assert CODE_PAGE in page.url
    assert StaffLoginFailure.objects.filter(username="sam_support").count() == 1
    assert SignInEvent.objects.filter(staff=sam, kind=SignInEvent.Kind.CODE_REFUSED).count() == 1

    type_code(page, phone.code())
    assert on_dashboard(page)
    assert not StaffLoginFailure.objects.exists()  # a finished sign-in clears the count
    kinds = set(SignInEvent.objects.filter(staff=sam).values_list("kind", flat=True))
    assert kinds == {SignInEvent.Kind.ENROLLED, SignInEvent.Kind.CODE_REFUSED}


def test_a_recovery_code_works_once(laptop_page: Page, required) -> None:
    page = laptop_page
    give_second_factor(staff("sam_support", "Support"))
    type_password(page, "sam_support")
    type_code(page, RECOVERY_CODES[1])
    assert on_dashboard(page)
    assert "You signed in with a recovery code" in page.content()
    sign_out(page)

    type_password(page, "sam_support")
    type_code(page, RECOVERY_CODES[1])
    assert "That code is not right" in page.content()
    assert CODE_PAGE in page.url
    page.goto("/admin/")
    assert CODE_PAGE in page.url  # still not signed in
