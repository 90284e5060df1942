"""Staff roles from migration 0003, the demo logins, and the admin's security settings."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

pytestmark = pytest.mark.django_db

VIEWS = {
    "wallet.view_player",
    "wallet.view_wallet",
    "wallet.view_ledgerentry",
    "wallet.view_bet",
    "wallet.view_playersession",
    "wallet.view_auditentry",
    "wallet.view_proposal",
    "journal.view_journalentry",
    "operator_cards.view_operatorcard",
    "operator_cards.view_cardstatuschange",
}
CARD_VIEWS = {"operator_cards.view_operatorcard", "operator_cards.view_cardstatuschange"}


def perms(group: str) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=group).permissions.select_related("content_type")
    }


def test_the_migration_creates_the_three_roles() -> None:
    assert perms("Read-only") == VIEWS
    assert perms("Support") == VIEWS | {
        "wallet.cancel_bet",
        "wallet.resolve_bet",
        "wallet.review_bet",
        "wallet.adjust_wallet",
        "operator_cards.issue_operatorcard",
        "operator_cards.cancel_operatorcard",
    }
    assert perms("Finance") == VIEWS | {"wallet.export_reconciliation"}
    # Approver decides on others' proposals; it cannot propose or act on a bet itself.
    assert perms("Approver") == VIEWS - CARD_VIEWS | {"wallet.approve_proposal"}


def test_no_role_can_add_change_or_delete_anything() -> None:
    for group in ("Read-only", "Support", "Finance", "Approver"):
        assert not {
            p for p in perms(group) if p.split(".")[1].startswith(("add_", "change_", "delete_"))
        }


def test_demo_creates_a_login_for_each_role(settings, capsys) -> None:
    settings.DEBUG = True
    call_command("demo", "--no-migrate")
    out = capsys.readouterr().out
    users = get_user_model().objects
    for username, group in (
        ("support", "Support"),
        ("finance", "Finance"),
        ("readonly", "Read-only"),
        ("approver", "Approver"),
    ):
        user = users.get(username=username)
        assert user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert f"login {username} / {username}-demo-password" in out
    assert users.get(username="support").has_perm("wallet.cancel_bet")
    assert not users.get(username="readonly").has_perm("wallet.cancel_bet")
    assert users.get(username="approver").has_perm("wallet.approve_proposal")


def test_admin_pages_need_a_login(client) -> None:
    for url in (
        "/admin/",
        "/admin/wallet/bet/",
        "/admin/support/players/",
        "/admin/wallet/auditentry/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_non_staff_users_cannot_log_in_to_the_admin(client) -> None:
    get_user_model().objects.create_user("player_like", "", "a-long-password-9")
    response = client.post(
        "/admin/login/", {"username": "player_like", "password": "a-long-password-9"}
    )
    assert response.status_code == 200  # the form again, with an error
    assert client.get("/admin/").status_code == 302


def test_cookies_and_hsts_are_secure_outside_debug(client) -> None:
    assert not settings.DEBUG  # the test settings run like production
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    response = client.get("/admin/login/", secure=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()
    assert response.cookies["csrftoken"]["secure"]


def test_login_form_is_csrf_protected() -> None:
    from django.test import Client

    get_user_model().objects.create_superuser("boss", "", "a-long-password-9")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "boss", "password": "a-long-password-9"})
    assert response.status_code == 403
