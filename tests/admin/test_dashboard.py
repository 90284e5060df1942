"""The dashboard on the admin index: stuck counts per provider and reason (each a link to the
filtered list), the oldest stuck bet, today's cancels and refunds, authentication failures and
the cancels-per-hour chart; finance links only for finance."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from journal.models import JournalEntry
from tests.admin.conftest import journal, open_bet, staff
from wallet.models import Bet
from wallet.services import bet_cancel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice")]


def cell(html: str, reason: str, provider: str) -> tuple[str, str]:
    """(href, text) of the stuck count link for one reason at one provider."""
    match = re.search(
        rf'<a class="count[^"]*" href="([^"]+)" data-reason="{reason}" '
        rf'data-provider="{provider}"[^>]*>([^<]+)</a>',
        html,
    )
    assert match, f"no {reason}/{provider} cell"
    return match.group(1).replace("&amp;", "&"), match.group(2)


@pytest.fixture
def scene(settings):
    settings.STUCK_AFTER_MINUTES = "buffalo:10,naga:10,jdb:10,vp:10"
    open_bet("old-1", age_minutes=60)
    open_bet("old-2", age_minutes=20)
    open_bet("new", age_minutes=1)
    open_bet("n-old", provider="naga", age_minutes=600)
    open_bet("retry", provider="vp")
    journal("vp", "retry", is_cancel=True, outcome="busy")
    open_bet("flag", amount="1")
    open_bet("flag", amount="2")
    bet_cancel(provider="buffalo", bet_keys=["refund-me"], account_id="alice")  # tombstone
    open_bet("cancel-me", amount="3")
    bet_cancel(provider="buffalo", bet_keys=["cancel-me"], tx_id="c1")
    journal("jdb", "", outcome="auth_failed", action="?", minutes_ago=30)
    journal("jdb", "", outcome="auth_failed", action="?", minutes_ago=2 * 24 * 60)  # too old


def test_stuck_counts_per_provider_link_to_the_filtered_list(as_user, support_user, scene):
    client = as_user(support_user)
    html = client.get("/admin/").content.decode()
    href, text = cell(html, "open_too_long", "buffalo")
    assert text == "2"
    assert "stuck=open_too_long" in href and "provider__exact=buffalo" in href
    listed = client.get(href)
    assert listed.status_code == 200
    assert [b.bet_key for b in listed.context["cl"].result_list] == ["old-2", "old-1"]
    assert cell(html, "open_too_long", "naga")[1] == "1"
    assert cell(html, "open_too_long", "jdb")[1] == "0"
    assert cell(html, "cancel_retry", "vp")[1] == "1"
    assert cell(html, "needs_review", "buffalo")[1] == "1"
    href, _ = cell(html, "cancel_retry", "vp")
    assert [b.bet_key for b in client.get(href).context["cl"].result_list] == ["retry"]


def test_oldest_stuck_bet_is_named_and_linked(as_user, support_user, scene):
    html = as_user(support_user).get("/admin/").content.decode()
    oldest = Bet.objects.get(bet_key="n-old")
    section = html[html.index('id="oldest-stuck"') :][:600]
    assert "Naga Games n-old" in section
    assert f"/admin/wallet/bet/{oldest.pk}/change/" in section


def test_todays_cancels_refunds_and_auth_failures(as_user, support_user, scene):
    response = as_user(support_user).get("/admin/")
    rows = {row.slug: row for row in response.context["provider_rows"]}
    assert rows["buffalo"].cancels_today == 2  # a refund and a tombstone
    assert rows["buffalo"].refunds_today == 1
    assert rows["buffalo"].refund_totals == ["3.00 USD"]
    assert rows["jdb"].auth_failures == "1"  # the one from two days ago is not recent
    assert rows["vp"].auth_failures == "0"
    # The links show exactly what was counted.
    client = as_user(support_user)
    cancelled = client.get(rows["buffalo"].cancels_url).context["cl"].result_list
    assert {b.bet_key for b in cancelled} == {"refund-me", "cancel-me"}
    refunds = client.get(rows["buffalo"].refunds_url).context["cl"].result_list
    assert [(e.kind, e.amount) for e in refunds] == [("refund", Decimal("3"))]
    assert "outcome=auth_failed" in rows["jdb"].auth_failures_url


def test_cancel_chart_counts_cancels_per_hour(as_user, support_user, scene):
    Bet.objects.filter(bet_key="cancel-me").update(cancelled_at=timezone.now() - timedelta(hours=3))
    chart = as_user(support_user).get("/admin/").context["cancel_chart"]
    buffalo = next(s for s in chart["series"] if s["name"] == "Buffalo")
    assert buffalo["total"] == 2
    assert [b["n"] for b in buffalo["bars"]][-1] == 1  # the tombstone, this hour
    assert [b["n"] for b in buffalo["bars"]][-4] == 1  # the refund, three hours ago
    assert len(buffalo["bars"]) == 24
    html = as_user(support_user).get("/admin/").content.decode()
    assert '<svg width="' in html
    # Nothing loaded from another site (no CDN): every script and stylesheet is ours.
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)


def test_dashboard_renders_with_nothing_stuck(as_user, support_user):
    html = as_user(support_user).get("/admin/").content.decode()
    assert "Nothing is stuck right now." in html


def test_readonly_staff_see_the_dashboard_but_no_finance_links(as_user, readonly_user, scene):
    response = as_user(readonly_user).get("/admin/")
    assert response.context["show_dashboard"]
    assert response.context["finance_links"] == []


def test_finance_links_for_users_with_the_finance_permission(as_user, finance_user, settings):
    from django.urls import NoReverseMatch, reverse

    response = as_user(finance_user).get("/admin/")
    expected = []
    for name in ("finance_summary", "finance_export", "finance_diff"):
        try:
            expected.append(reverse(f"admin:{name}"))
        except NoReverseMatch:
            pass
    assert [link["url"] for link in response.context["finance_links"]] == expected


def test_staff_without_view_permission_see_no_figures(as_user):
    nobody = staff("nobody")
    response = as_user(nobody).get("/admin/")
    assert response.status_code == 200
    assert not response.context.get("show_dashboard")


def test_dashboard_query_count_is_bounded(
    as_user, support_user, scene, django_assert_max_num_queries
):
    client = as_user(support_user)
    client.get("/admin/")
    journal("jdb", "", outcome="auth_failed")
    for n in range(30):
        open_bet(f"more-{n}", age_minutes=30)
    # The number of queries does not grow with the number of bets.
    with django_assert_max_num_queries(40):
        client.get("/admin/")
    assert JournalEntry.objects.count() >= 3
