"""Failed admin logins are locked out per username and per address, with the count in the
database so that every app server behind the load balancer agrees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from wallet.models import StaffLoginFailure

pytestmark = pytest.mark.django_db

GOOD = "the-right-password-1"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    settings.ADMIN_LOGIN_MAX_FAILURES_PER_IP = 5
    settings.ADMIN_LOGIN_LOCKOUT_MINUTES = 15


@pytest.fixture
def boss():
    return get_user_model().objects.create_superuser("boss", "", GOOD)


def attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> bool:
    """True when the login worked."""
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )
    return response.status_code == 302 and response["Location"] == "/admin/"


def locked_message(client: Client, username: str, ip: str = "10.0.0.1") -> bool:
    response = client.post("/admin/login/", {"username": username, "password": "x"}, REMOTE_ADDR=ip)
    return "Too many failed logins" in response.content.decode()


def test_the_right_password_works_after_a_few_failures_and_clears_them(boss) -> None:
    client = Client()
    assert not attempt(client, "boss", "wrong-1")
    assert not attempt(client, "boss", "wrong-2")
    assert attempt(client, "boss", GOOD)
    assert not StaffLoginFailure.objects.filter(username="boss").exists()


def test_a_username_is_locked_after_the_limit_even_with_the_right_password(boss) -> None:
    for n in range(3):
        assert not attempt(Client(), "boss", f"wrong-{n}", ip=f"10.0.0.{n + 1}")
    client = Client()
    assert not attempt(client, "boss", GOOD, ip="10.9.9.9")
    assert locked_message(client, "boss", ip="10.9.9.9")
    # ... while another user is unaffected.
    get_user_model().objects.create_superuser("other", "", GOOD)
    assert attempt(Client(), "other", GOOD, ip="10.9.9.9")


def test_the_lock_is_case_insensitive_on_the_username(boss) -> None:
    for name in ("boss", "BOSS", "Boss "):
        attempt(Client(), name, "wrong")
    assert not attempt(Client(), "boss", GOOD)


def test_the_lock_ends_after_the_window(boss) -> None:
    for n in range(3):
        attempt(Client(), "boss", f"wrong-{n}")
    StaffLoginFailure.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    assert attempt(Client(), "boss", GOOD)


def test_one_address_spraying_many_usernames_is_locked(boss) -> None:
    for n in range(5):
        attempt(Client(), f"user{n}", "guess", ip="203.0.113.7")
    assert not attempt(Client(), "boss", GOOD, ip="203.0.113.7")
    assert attempt(Client(), "boss", GOOD, ip="198.51.100.1")


def test_unknown_usernames_are_locked_like_known_ones(boss) -> None:
    """The lockout message must not reveal which usernames exist."""
    for n in range(3):
        attempt(Client(), "ghost", f"wrong-{n}", ip=f"10.1.0.{n}")
        attempt(Client(), "boss", f"wrong-{n}", ip=f"10.2.0.{n}")
    assert locked_message(Client(), "ghost", ip="10.3.0.1")
    assert locked_message(Client(), "boss", ip="10.3.0.2")


def test_failures_from_any_app_server_count_together(boss) -> None:
    """Two clients stand for two app servers: the count lives in the shared database."""
    server_a, server_b = Client(), Client()
    attempt(server_a, "boss", "wrong-1")
    attempt(server_b, "boss", "wrong-2")
    attempt(server_a, "boss", "wrong-3")
    assert not attempt(server_b, "boss", GOOD)
    assert StaffLoginFailure.objects.filter(username="boss").count() == 3


def test_the_address_is_taken_behind_trusted_proxies_only(boss, settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    client = Client()
    client.post(
        "/admin/login/",
        {"username": "boss", "password": "nope"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.23",
    )
    client.post(
        "/admin/login/",
        {"username": "boss", "password": "nope"},
        REMOTE_ADDR="192.0.2.50",  # not a proxy of ours: the header is not believed
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert sorted(StaffLoginFailure.objects.values_list("client_ip", flat=True)) == [
        "192.0.2.50",
        "198.51.100.23",
    ]


def test_old_failures_are_purged(boss) -> None:
    attempt(Client(), "boss", "wrong")
    StaffLoginFailure.objects.update(created_at=timezone.now() - timedelta(days=1))
    attempt(Client(), "someone", "wrong")
    assert list(StaffLoginFailure.objects.values_list("username", flat=True)) == ["someone"]


def test_a_superuser_can_unlock_by_deleting_the_rows(boss) -> None:
    for n in range(3):
        attempt(Client(), "boss", f"wrong-{n}")
    admin = get_user_model().objects.create_superuser("root", "", GOOD)
    client = Client()
    client.force_login(admin)
    ids = list(StaffLoginFailure.objects.values_list("pk", flat=True))
    client.post(
        "/admin/wallet/staffloginfailure/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert not StaffLoginFailure.objects.exists()
    assert attempt(Client(), "boss", GOOD)
