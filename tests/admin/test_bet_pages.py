"""The bet list (filters, bounded counts, search) and the one-page bet detail."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.admin.conftest import journal, open_bet
from wallet.admin import BoundedPaginator
from wallet.models import Bet
from wallet.services import bet_cancel, bet_settle, bet_staff_cancel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice")]

BETS = "/admin/wallet/bet/"


def listed(client, query: str = "") -> list[str]:
    response = client.get(f"{BETS}?{query}")
    assert response.status_code == 200, response.content[:500]
    return [bet.bet_key for bet in response.context["cl"].result_list]


def test_every_filter_of_the_bet_list_works(as_user, readonly_user, settings) -> None:
    settings.STUCK_AFTER_MINUTES = "5"
    open_bet("open-old", age_minutes=30)
    open_bet("naga-open", provider="naga")
    open_bet("settled")
    bet_settle(provider="buffalo", bet_keys=["settled"], tx_id="w", amount=Decimal(2))
    open_bet("flag", amount="1")
    open_bet("flag", amount="2")
    open_bet("retry")
    journal("buffalo", "retry", is_cancel=True, outcome="busy")
    bet_cancel(provider="buffalo", bet_keys=["late"], account_id="alice")
    open_bet("late")
    client = as_user(readonly_user)
    assert set(listed(client, "stuck=open_too_long")) == {"open-old"}
    assert set(listed(client, "stuck=needs_review")) == {"flag"}
    assert set(listed(client, "stuck=cancel_retry")) == {"retry"}
    assert set(listed(client, "stuck=late_arrival")) == {"late"}
    assert listed(client, "stuck=bogus") == []
    assert set(listed(client, "provider__exact=naga")) == {"naga-open"}
    assert set(listed(client, "state__exact=settled")) == {"settled"}
    assert set(listed(client, "state__exact=tombstone")) == {"late"}
    assert set(listed(client, "needs_review__exact=1")) == {"flag", "late"}
    assert set(listed(client, "kind__exact=bet_and_settle")) == set()
    assert len(listed(client, "created_at__gte=2000-01-01+00:00:00%2B00:00")) == 6
    assert listed(client, "created_at__lt=2000-01-01+00:00:00%2B00:00") == []
    assert set(listed(client, "stuck=open_too_long&provider__exact=naga")) == set()


def test_search_by_bet_key_round_or_account_id(as_user, readonly_user) -> None:
    open_bet("k1")
    open_bet("k2")
    client = as_user(readonly_user)
    assert listed(client, "q=k1") == ["k1"]
    assert listed(client, "q=round-k2") == ["k2"]
    assert set(listed(client, "q=alice")) == {"k1", "k2"}
    assert listed(client, "q=k") == []  # exact only: fast on an index


def test_counts_stop_at_the_limit_and_say_so(as_user, readonly_user, monkeypatch) -> None:
    monkeypatch.setattr(BoundedPaginator, "limit", 3)
    for n in range(5):
        open_bet(f"b{n}")
    response = as_user(readonly_user).get(f"{BETS}?provider__exact=buffalo")
    html = response.content.decode()
    assert response.context["cl"].result_count == 3
    assert "3+ bets" in html or "3+ results" in html
    assert response.context["cl"].full_result_count is None  # no unbounded COUNT


def test_the_list_never_runs_an_unbounded_count(as_user, readonly_user) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    open_bet("b1")
    client = as_user(readonly_user)
    with CaptureQueriesContext(connection) as queries:
        client.get(BETS)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts, "expected a bounded count"
    assert all("LIMIT" in sql.upper() for sql in counts), counts


def test_bet_page_shows_player_amounts_history_ledger_journal_and_audit(
    as_user, support_user, readonly_user
) -> None:
    bet = open_bet("b1", amount="12.5")
    journal("buffalo", "b1", action="debit", outcome="ok", minutes_ago=2)
    journal(
        "buffalo",
        "b1",
        action="cancel",
        is_cancel=True,
        outcome="busy",
        minutes_ago=1,
        error="lock wait exceeded",
    )
    bet_staff_cancel(bet_id=bet.pk, actor=support_user, reason="Ticket 12: provider agreed")
    html = as_user(readonly_user).get(reverse("admin:wallet_bet_change", args=[bet.pk])).content
    html = html.decode()
    for expected in (
        "alice",  # player, linked
        reverse("admin:wallet_player_change", args=[bet.player_id]),
        "12.50 USD",  # stake
        "Cancelled (stake refunded)",
        "100.00 USD",  # balance now
        "Stake taken -12.50",  # history from the ledger
        "Stake refunded +12.50",
        "Provider cancel request cancel: answered busy",  # history from the journal
        "lock wait exceeded",
        "Staff: Cancel and refund by sam_support",  # history from the audit
        "Ticket 12: provider agreed",
        "balance: 87.50 USD → <strong>100.00 USD</strong>",  # before -> after
        "/admin/journal/journalentry/?provider=buffalo&amp;bet_key=b1",
        "&quot;betId&quot;: &quot;b1&quot;",  # the journaled request
    ):
        assert expected in html, expected


def test_bet_page_of_a_tombstone_with_its_late_bet(as_user, readonly_user) -> None:
    bet_cancel(provider="buffalo", bet_keys=["late"], account_id="alice")
    open_bet("late")
    bet = Bet.objects.get(bet_key="late")
    html = as_user(readonly_user).get(reverse("admin:wallet_bet_change", args=[bet.pk]))
    html = html.content.decode()
    assert "A cancel arrived before the bet: tombstone recorded" in html
    assert "The bet arrived after its cancel and was refused" in html
    assert "Bet after its cancel" in html
    assert "No money moved for this bet." in html


def test_bet_page_needs_the_view_permission(as_user) -> None:
    from tests.admin.conftest import staff

    bet = open_bet("b1")
    assert (
        as_user(staff("nobody")).get(reverse("admin:wallet_bet_change", args=[bet.pk])).status_code
        == 403
    )


def test_missing_bet_redirects_with_a_message(as_user, readonly_user) -> None:
    response = as_user(readonly_user).get("/admin/wallet/bet/424242/change/", follow=True)
    assert "doesn\u2019t exist" in response.content.decode()


def test_bets_cannot_be_added_changed_or_deleted_even_by_a_superuser(as_user, superuser) -> None:
    bet = open_bet("b1")
    client = as_user(superuser)
    assert client.get("/admin/wallet/bet/add/").status_code == 403
    assert client.post(f"/admin/wallet/bet/{bet.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Bet.objects.filter(pk=bet.pk).exists()
