"""The admin login works in a real browser (the other browser tests build on these fixtures)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_can_log_in_and_sees_the_back_office(page, login, screenshot) -> None:
    get_user_model().objects.create_superuser("boss", "", "boss-password-123")
    login("boss", "boss-password-123")
    assert "Operator back office" in page.content()
    assert page.url.endswith("/admin/")
    assert screenshot("admin-index").exists()


def test_wrong_password_is_refused(page, login) -> None:
    get_user_model().objects.create_superuser("boss", "", "boss-password-123")
    login("boss", "not-the-password")
    assert "/admin/login/" in page.url
    assert "Please enter the correct username and password" in page.content()
