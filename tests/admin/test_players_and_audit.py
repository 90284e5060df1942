"""The player lookup and player page; the staff audit list (read-only for everyone)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.admin.conftest import journal, open_bet
from tests.helpers import make_player
from wallet.models import AuditEntry, Player
from wallet.services import bet_staff_cancel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice")]

LOOKUP = "/admin/support/players/"


def test_lookup_by_exact_account_id_opens_the_player(as_user, readonly_user) -> None:
    player = Player.objects.get(account_id="alice")
    response = as_user(readonly_user).get(LOOKUP, {"account_id": " alice "})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:wallet_player_change", args=[player.pk])


def test_lookup_without_a_match_suggests_ids_with_that_start(as_user, readonly_user) -> None:
    make_player("alice2", "EUR", "5")
    html = as_user(readonly_user).get(LOOKUP, {"account_id": "ali"}).content.decode()
    assert "No player has the account id “ali”" in html
    assert "alice2" in html and ">alice<" in html
    html = as_user(readonly_user).get(LOOKUP, {"account_id": "zed"}).content.decode()
    assert "case-sensitive" in html


def test_lookup_needs_the_view_permission(as_user) -> None:
    from tests.admin.conftest import staff

    assert as_user(staff("nobody")).get(LOOKUP, {"account_id": "alice"}).status_code == 403


def test_player_page_shows_wallets_open_bets_and_recent_activity(
    as_user, support_user, readonly_user
) -> None:
    open_bet("open-1", amount="7")
    cancelled = open_bet("done", amount="3")
    bet_staff_cancel(bet_id=cancelled.pk, actor=support_user, reason="player complained")
    journal("buffalo", "open-1", action="debit", account_id="alice")
    player = Player.objects.get(account_id="alice")
    html = as_user(readonly_user).get(reverse("admin:wallet_player_change", args=[player.pk]))
    html = html.content.decode()
    wallets = html[html.index('id="player-wallets"') :]
    assert "93.00 USD" in wallets[:1500]  # 100 - 7 - 3 + 3
    open_section = html[html.index('id="player-open-bets"') : html.index('id="player-recent-bets"')]
    assert "Buffalo open-1" in open_section and "Buffalo done" not in open_section
    assert "Stake refunded" not in html  # ledger rows use the kind's own label
    assert "Refund" in html and "+3.00 USD" in html and "player complained" in html
    assert "debit" in html[html.index('id="player-journal"') :]


def test_audit_list_shows_who_when_what_why_and_before_after(as_user, support_user) -> None:
    bet = open_bet("b1", amount="10")
    bet_staff_cancel(bet_id=bet.pk, actor=support_user, reason="Ticket 9")
    html = as_user(support_user).get("/admin/wallet/auditentry/").content.decode()
    for expected in (
        "sam_support",
        "Cancel and refund",
        "Buffalo b1",
        "Ticket 9",
        "balance: 90.00 USD → <strong>100.00 USD</strong>",
        "state: open → <strong>cancelled</strong>",
    ):
        assert expected in html, expected


def test_audit_is_read_only_even_for_superusers(as_user, superuser, support_user) -> None:
    bet = open_bet("b1")
    bet_staff_cancel(bet_id=bet.pk, actor=support_user, reason="Ticket 9")
    entry = AuditEntry.objects.get()
    client = as_user(superuser)
    assert client.get("/admin/wallet/auditentry/add/").status_code == 403
    page = client.get(f"/admin/wallet/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    changed = client.post(f"/admin/wallet/auditentry/{entry.pk}/change/", {"reason": "rewritten"})
    assert changed.status_code == 403
    assert (
        client.post(f"/admin/wallet/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    changelist = client.post(
        "/admin/wallet/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert changelist.status_code in (200, 302)
    entry.refresh_from_db()
    assert entry.reason == "Ticket 9"
    assert AuditEntry.objects.count() == 1


def test_the_player_page_shows_each_balance_at_a_past_moment(as_user, support_user) -> None:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from tests.wallet.test_balances import insert_rows
    from wallet.models import Wallet

    player = Player.objects.create(account_id="bea")
    wallet = Wallet.objects.create(player=player, currency="EUR")
    month_end = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
    insert_rows(
        wallet,
        [
            (month_end - timedelta(days=2), Decimal(40), Decimal(40)),
            (month_end + timedelta(microseconds=999_999), Decimal(2), Decimal(42)),
            (month_end + timedelta(seconds=1), Decimal(100), Decimal(142)),
        ],
    )
    url = reverse("admin:wallet_player_change", args=[player.pk])
    html = as_user(support_user).get(url, {"balance_at": "2026-11-30 23:59:59"}).content.decode()
    assert "Balance at 2026-11-30 23:59:59 UTC" in html
    # Through the end of that second: the 40 and the 2, not the 100 a second later.
    assert "<strong>42.00 EUR</strong>" in html and "2026-11-30 23:59:59 UTC" in html
    html = as_user(support_user).get(url, {"balance_at": "2026-11-01 00:00"}).content.decode()
    assert "<strong>0.00 EUR</strong>" in html and "no movement yet" in html
    html = as_user(support_user).get(url, {"balance_at": "30/11/2026"}).content.decode()
    assert "is not a moment: type it as 2026-12-31 23:59:59 (UTC)" in html
