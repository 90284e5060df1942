"""The request journal in the admin: read-only, filters and links other pages rely on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from django.utils.http import urlencode

from journal.models import JournalEntry
from tests.providers.jdb.jdb_wire import (
    CNY_PLAYER,
    balance_query,
    bet_n_settle,
    cancel_bet_n_settle,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("chen")]

CHANGELIST = "/admin/journal/journalentry/"


@pytest.fixture
def traffic(jdb, jdb_raw) -> None:
    """Some JDB requests: a round, its cancel twice, a balance query, and a bad one."""
    jdb(bet_n_settle(8001, "-10", "25"), Authorization="Bearer s3cret-token")
    jdb(cancel_bet_n_settle(8001, systemSessionId="session-abcdef-123456"))
    jdb(cancel_bet_n_settle(8001))
    jdb(bet_n_settle(8002, "-1", "0"))
    jdb(balance_query())
    jdb_raw(b"x=garbage")


def listed(client: Client, query: dict[str, str]) -> list[JournalEntry]:
    response = client.get(f"{CHANGELIST}?{urlencode(query)}")
    assert response.status_code == 200, response.content[:500]
    return list(response.context["cl"].result_list)


def test_a_bets_link_lists_every_request_about_it(admin_client: Client, traffic: None) -> None:
    rows = listed(admin_client, {"provider": "jdb", "bet_key": "8001"})
    assert [r.action for r in rows] == [
        "4 Cancel BetNSettle",
        "4 Cancel BetNSettle",
        "8 BetNSettle",
    ]
    assert all(r.bet_key == "8001" for r in rows)


def test_a_players_link_lists_their_requests(admin_client: Client, traffic: None) -> None:
    rows = listed(admin_client, {"account_id": CNY_PLAYER})
    assert len(rows) == 5 and all(r.account_id == CNY_PLAYER for r in rows)


def test_filter_by_outcome_includes_replays(admin_client: Client, traffic: None) -> None:
    kept = listed(admin_client, {"outcome": "kept"})
    assert sorted(r.outcome for r in kept) == ["kept", "replay:kept"]
    failed = listed(admin_client, {"provider": "jdb", "outcome": "auth_failed"})
    assert len(failed) == 1 and failed[0].answer["status"] == "9001"


def test_filter_by_action_and_cancel_flag(admin_client: Client, traffic: None) -> None:
    assert len(listed(admin_client, {"action": "4 Cancel BetNSettle"})) == 2
    assert len(listed(admin_client, {"is_cancel__exact": "1"})) == 2
    response = admin_client.get(CHANGELIST)
    assert b"4 Cancel BetNSettle" in response.content  # offered as a choice


def test_filter_by_date_as_the_dashboard_links(admin_client: Client, traffic: None) -> None:
    since = timezone.now() - timedelta(hours=1)
    query = {"provider": "jdb", "outcome": "auth_failed", "created_at__gte": str(since)}
    assert len(listed(admin_client, query)) == 1
    future = {"created_at__gte": str(timezone.now() + timedelta(hours=1))}
    assert listed(admin_client, future) == []


def test_search_matches_exact_bet_key_player_or_request_id(
    admin_client: Client, traffic: None
) -> None:
    assert len(listed(admin_client, {"q": "8002"})) == 1
    assert len(listed(admin_client, {"q": "800"})) == 0  # exact only: indexable
    request_id = JournalEntry.objects.order_by("id").first().request_id  # type: ignore[union-attr]
    assert len(listed(admin_client, {"q": request_id})) == 1


def test_the_detail_page_shows_payload_answer_and_redacted_headers(
    admin_client: Client, traffic: None
) -> None:
    entry = JournalEntry.objects.filter(bet_key="8001", action="8 BetNSettle").get()
    page = admin_client.get(f"{CHANGELIST}{entry.pk}/change/").content.decode()
    assert "&quot;transferId&quot;: 8001" in page
    assert "&quot;bet&quot;: &quot;-10&quot;" in page or "&quot;bet&quot;: -10" in page
    assert "&quot;status&quot;: &quot;0000&quot;" in page
    assert "[redacted]" in page and "s3cret-token" not in page
    assert "every request about this bet" in page
    cancel = (
        JournalEntry.objects.filter(bet_key="8001", action="4 Cancel BetNSettle")
        .order_by("id")
        .first()
    )
    cancel_page = admin_client.get(f"{CHANGELIST}{cancel.pk}/change/").content.decode()  # type: ignore[union-attr]
    assert "session-abcdef-123456" not in cancel_page and "sess…[redacted]" in cancel_page


def test_nobody_adds_changes_or_deletes_journal_rows(admin_client: Client, traffic: None) -> None:
    entry = JournalEntry.objects.first()
    assert entry is not None
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert (
        admin_client.post(f"{CHANGELIST}{entry.pk}/change/", {"outcome": "ok"}).status_code == 403
    )
    assert admin_client.post(f"{CHANGELIST}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert JournalEntry.objects.filter(pk=entry.pk).exists()
    assert response.status_code in (200, 302)
    assert b"delete_selected" not in admin_client.get(CHANGELIST).content


def _staff(codenames: list[str]) -> Any:
    user = get_user_model().objects.create_user("viewer", "", "pw-viewer-123456", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_staff_with_the_view_permission_can_read(traffic: None) -> None:
    client = Client()
    client.force_login(_staff(["view_journalentry"]))
    assert client.get(CHANGELIST).status_code == 200
    entry = JournalEntry.objects.first()
    assert client.get(f"{CHANGELIST}{entry.pk}/change/").status_code == 200  # type: ignore[union-attr]


def test_staff_without_the_view_permission_cannot(traffic: None) -> None:
    client = Client()
    client.force_login(_staff([]))
    assert client.get(CHANGELIST).status_code == 403
