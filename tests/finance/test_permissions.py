"""Only staff with ``wallet.export_reconciliation`` (Finance) see or use the finance pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.finance.conftest import DAY1, DAY2, Book, finance_user

pytestmark = pytest.mark.django_db

PAGES = ["admin:finance_export", "admin:finance_summary", "admin:finance_diff"]
DOWNLOADS = [
    ("admin:finance_export", {"download": "1"}),
    ("admin:finance_summary", {"download": "1"}),
]


def test_urls_are_mounted_in_the_admin() -> None:
    assert reverse("admin:finance_export") == "/admin/finance/export/"
    assert reverse("admin:finance_summary") == "/admin/finance/summary/"
    assert reverse("admin:finance_diff") == "/admin/finance/diff/"


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_users_are_sent_to_the_login(client: Client, page: str) -> None:
    url = reverse(page)
    response = client.get(url, {"download": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}%3Fdownload%3D1"


@pytest.mark.parametrize("page", PAGES)
def test_support_staff_without_finance_get_403(client: Client, page: str) -> None:
    client.force_login(finance_user("sam-support", allowed=False))  # type: ignore[arg-type]
    assert client.get(reverse(page)).status_code == 403


@pytest.mark.parametrize(("page", "params"), DOWNLOADS)
def test_support_cannot_download_anything(
    book: Book, client: Client, page: str, params: dict[str, str]
) -> None:
    client.force_login(finance_user("sam-support", allowed=False))  # type: ignore[arg-type]
    response = client.get(reverse(page), params)
    assert response.status_code == 403
    assert not response.streaming
    assert b"ledger_id" not in response.content and b"day,provider" not in response.content


def test_support_cannot_run_a_diff(book: Book, client: Client) -> None:
    client.force_login(finance_user("sam-support", allowed=False))  # type: ignore[arg-type]
    response = client.post(
        reverse("admin:finance_diff"),
        {
            "provider": "buffalo",
            "date_from": DAY1,
            "date_to": DAY2,
            "statement": SimpleUploadedFile("s.csv", b"id,amount,status\nd1,-10,settled\n"),
        },
    )
    assert response.status_code == 403
    assert b"matched" not in response.content


def test_a_user_who_is_not_staff_is_sent_to_the_login(client: Client) -> None:
    user = finance_user("outsider")
    get_user_model().objects.filter(pk=user.pk).update(is_staff=False)  # type: ignore[attr-defined]
    client.force_login(user)  # type: ignore[arg-type]
    assert client.get(reverse("admin:finance_export")).status_code == 302


@pytest.mark.parametrize("page", PAGES)
def test_finance_staff_and_superusers_may(client: Client, page: str) -> None:
    client.force_login(finance_user("fiona"))  # type: ignore[arg-type]
    assert client.get(reverse(page)).status_code == 200
    boss = get_user_model().objects.create_superuser("boss", "", "pw")
    client.force_login(boss)
    assert client.get(reverse(page)).status_code == 200


def test_finance_pages_link_to_each_other(client: Client) -> None:
    client.force_login(finance_user("fiona"))  # type: ignore[arg-type]
    html = client.get(reverse("admin:finance_summary")).content.decode()
    for page in PAGES:
        assert f'href="{reverse(page)}"' in html
