"""What staff read (issue 20): error pages with their reason, one time format, amounts with their
currency's decimals, labels that say what they mean, and the card refresh only for card roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backoffice.dashboard import _chart_axis
from journal.models import JournalEntry
from providers.vp.cards.admin import card_message_text
from providers.vp.cards.models import OperatorCard
from tests.admin.conftest import bet_and_settle, journal, open_bet, staff
from tests.helpers import make_player
from wallet.display import amount_text, when
from wallet.models import AuditEntry, Bet, LedgerEntry, Player
from wallet.selectors import StuckReason, stuck_bets
from wallet.services import bet_staff_cancel

pytestmark = pytest.mark.django_db

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
LOCALE_TIME = re.compile(r"\b(a\.m\.|p\.m\.|midnight|noon)")


def html(response: Any) -> str:
    return response.content.decode()


# --- 403, 404, 500 ----------------------------------------------------------------------------


def test_a_403_shows_its_reason_inside_the_admin_with_a_way_back(support_user, as_user) -> None:
    response = as_user(support_user).get(reverse("admin:finance_summary"))
    assert response.status_code == 403
    page = html(response)
    assert "Finance reconciliation needs the Finance role." in page
    assert 'id="back-to-dashboard" href="/admin/"' in page
    assert "Operator back office" in page and 'id="user-tools"' in page  # the admin's layout
    assert "<h1>403 Forbidden</h1>" not in page


def test_a_403_without_a_reason_says_what_is_wrong(readonly_user, as_user, alice) -> None:
    bet = open_bet("b-403")
    response = as_user(readonly_user).get(reverse("admin:wallet_bet_cancel", args=[bet.pk]))
    assert response.status_code == 403
    assert "Your role does not allow this page." in html(response)


def test_a_404_is_inside_the_admin_too(support_user, as_user) -> None:
    response = as_user(support_user).get("/admin/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in html(response) and 'id="back-to-dashboard"' in html(response)
    missing = as_user(support_user).get(reverse("admin:wallet_bet_resolve", args=[999999]))
    assert missing.status_code == 404 and "No such bet." in html(missing)


def test_provider_paths_keep_answering_json_never_the_html_pages(client: Client) -> None:
    response = client.get("/providers/nobody/here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "<html" not in html(response)


def test_the_500_page_renders_without_the_database(rf) -> None:
    from backoffice.error_pages import server_error

    with pytest.MonkeyPatch.context() as patch:
        # Any database use would fail: the 500 page must not need it.
        patch.setattr(
            "django.contrib.admin.AdminSite.each_context",
            lambda *a, **k: (_ for _ in ()).throw(AssertionError("database used")),
        )
        response = server_error(rf.get("/admin/wallet/bet/"))
    assert response.status_code == 500
    assert "Server error" in html(response) and "Back to the dashboard" in html(response)
    json_500 = server_error(rf.get("/providers/jdb/"))
    assert json_500["Content-Type"] == "application/json"


# --- one time format --------------------------------------------------------------------------


def test_when_has_seconds_and_the_zone() -> None:
    assert when(datetime(2026, 12, 6, 18, 40, 12, tzinfo=UTC)) == "2026-12-06 18:40:12 UTC"
    assert when(None) == "\u2013"


@pytest.mark.parametrize(
    "model",
    ["bet", "ledgerentry", "player", "wallet", "auditentry", "playersession", "staffloginfailure"],
)
def test_every_list_shows_times_with_seconds_and_zone(model, superuser, as_user) -> None:
    from django.contrib.auth import get_user_model

    from wallet.models import StaffLoginFailure

    make_player("alice", "USD", "100")
    bet = open_bet("b-time")
    bet_staff_cancel(bet_id=bet.pk, actor=get_user_model().objects.get(), reason="ticket 1")
    assert Bet.objects.count() == 1
    StaffLoginFailure.objects.create(username="mallory", client_ip="10.0.0.1")
    from wallet.services import session_create

    session_create(account_id="alice", provider="naga", ttl_seconds=3600)
    page = html(as_user(superuser).get(reverse(f"admin:wallet_{model}_changelist")))
    assert TIME.search(page), page
    assert not LOCALE_TIME.search(page)


def test_the_journal_list_and_page_show_times_with_seconds(superuser, as_user) -> None:
    entry = journal("jdb", "k-1")
    client = as_user(superuser)
    listing = html(client.get(reverse("admin:journal_journalentry_changelist")))
    assert when(entry.created_at) in listing and not LOCALE_TIME.search(listing)
    detail = html(client.get(reverse("admin:journal_journalentry_change", args=[entry.pk])))
    assert when(entry.created_at) in detail and not LOCALE_TIME.search(detail)


def test_detail_pages_show_times_with_seconds(superuser, as_user) -> None:
    make_player("alice", "USD", "100")
    client = as_user(superuser)
    player = Player.objects.get()
    entry = LedgerEntry.objects.get()
    for url in (
        reverse("admin:wallet_player_change", args=[player.pk]),
        reverse("admin:wallet_ledgerentry_change", args=[entry.pk]),
        reverse("admin:wallet_wallet_change", args=[entry.wallet_id]),
    ):
        page = html(client.get(url))
        assert TIME.search(page), url
        assert not LOCALE_TIME.search(page), url


def test_the_chart_axis_has_dates_where_it_crosses_midnight() -> None:
    start = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)
    ticks = _chart_axis(start, start + timedelta(hours=24), 17)
    assert [t["text"] for t in ticks] == [
        "2026-12-06 19:00:00 UTC",
        "2026-12-07 00:00:00 UTC",
        "2026-12-07 19:00:00 UTC",
    ]
    assert [t["x"] for t in ticks] == [0, 5 * 17, 24 * 17]
    same_day = _chart_axis(datetime(2026, 12, 6, 0, 0, tzinfo=UTC), start - timedelta(hours=1), 17)
    assert len(same_day) == 2


def test_the_dashboard_axis_shows_full_dates(support_user, as_user) -> None:
    page = html(as_user(support_user).get(reverse("admin:index")))
    axis = page[page.index('id="chart-axis"') :][:2000]
    assert len(TIME.findall(axis)) >= 4  # each tick twice: its text and its data-at


# --- amounts, labels --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("3.100000", "USD", "3.10 USD"),
        ("1000", "CNY", "1000.00 CNY"),
        ("40.5", "MYR", "40.50 MYR"),
        ("1500.000000", "JPY", "1500 JPY"),
        ("25000", "VND", "25000 VND"),
        ("12", "KRW", "12 KRW"),
        ("1.5", "XYZ", "1.50 XYZ"),  # unknown currency: 2 decimals
        ("0.123456", "USD", "0.123456 USD"),  # never rounded away
        ("-5", "USD", "-5.00 USD"),
    ],
)
def test_amounts_have_their_currency_and_its_decimals(amount, currency, shown) -> None:
    assert amount_text(Decimal(amount), currency) == shown


def test_lists_show_amounts_with_currency_and_no_six_decimals(superuser, as_user) -> None:
    make_player("alice", "USD", "100")
    make_player("chen", "JPY", "1500")
    open_bet("b-amount", amount="3.1")
    client = as_user(superuser)
    for name in ("bet", "ledgerentry", "wallet"):
        page = html(client.get(reverse(f"admin:wallet_{name}_changelist")))
        assert ".000000" not in page and "3.100000" not in page, name
    assert "3.10 USD" in html(client.get(reverse("admin:wallet_bet_changelist")))
    wallets = html(client.get(reverse("admin:wallet_wallet_changelist")))
    assert "96.90 USD" in wallets and "1500 JPY" in wallets


def test_needs_review_is_a_red_badge_and_normal_bets_show_nothing(superuser, as_user) -> None:
    make_player("alice", "USD", "100")
    open_bet("b-normal")
    flagged = open_bet("b-flagged")
    Bet.objects.filter(pk=flagged.pk).update(needs_review=True, review_reason="other amount")
    page = html(as_user(superuser).get(reverse("admin:wallet_bet_changelist")))
    assert page.count("needs review</span>") == 1
    assert 'title="other amount">needs review' in page
    assert "icon-yes.svg" not in page and "icon-no.svg" not in page


def test_staff_actions_read_as_words_on_the_player_page_and_audit(support_user, as_user) -> None:
    make_player("alice", "USD", "100")
    bet = open_bet("b-words")
    bet_staff_cancel(bet_id=bet.pk, actor=support_user, reason="ticket 7")
    client = as_user(support_user)
    player = html(client.get(reverse("admin:wallet_player_change", args=[bet.player_id])))
    audit = player[player.index('id="player-audit"') :]
    assert "Cancel and refund" in audit and "cancel_and_refund" not in audit
    entry = AuditEntry.objects.get()
    detail = html(client.get(reverse("admin:wallet_auditentry_change", args=[entry.pk])))
    assert "Cancel and refund by sam_support" in detail
    assert "cancel_and_refund by" not in detail
    listing = html(client.get(reverse("admin:wallet_auditentry_changelist")))
    assert "needs review: no" not in listing and "state: open → <strong>cancelled" in listing


def test_a_ledger_entry_is_titled_in_words(superuser, as_user) -> None:
    make_player("demo_alice", "USD", "1000")
    entry = LedgerEntry.objects.get()
    page = html(as_user(superuser).get(reverse("admin:wallet_ledgerentry_change", args=[entry.pk])))
    assert "Deposit 1000.00 USD to demo_alice" in page
    assert "deposit 1000.000000 on" not in page


def test_the_list_count_names_what_it_counts(superuser, as_user) -> None:
    for n in range(13):
        journal("jdb", f"k-{n}")
    page = html(as_user(superuser).get(reverse("admin:journal_journalentry_changelist")))
    assert "13 requests" in page and "13 request journal" not in page


def test_view_site_is_gone(support_user, as_user) -> None:
    page = html(as_user(support_user).get(reverse("admin:index")))
    assert "View site" not in page


def test_a_card_message_is_a_sentence_and_the_raw_error_stays_on_its_page(
    superuser, as_user
) -> None:
    card = _card(last_vp_code=None, last_message="unreachable: ConnectionRefusedError(111)")
    assert card_message_text(card) == "VP could not be reached. Nothing was sent; try again later."
    coded = _card(spin_id="OC2", last_vp_code=8, last_message="VP code 8: member not exist")
    assert card_message_text(coded) == "VP does not know this player."
    page = html(
        as_user(superuser).get(reverse("admin:operator_cards_operatorcard_change", args=[card.pk]))
    )
    assert "VP could not be reached. Nothing was sent" in page
    assert "ConnectionRefusedError(111)" in page  # kept for engineers
    assert card_message_text(_card(spin_id="OC3")) == "No answer from VP yet."


def _card(spin_id: str = "OC1", **fields: Any) -> OperatorCard:
    player = Player.objects.first() or make_player("alice", "USD", "100")
    return OperatorCard.objects.create(
        spin_id=spin_id,
        player=player,
        currency="USD",
        game_code="vp-slot",
        card_type=1,
        rounds=10,
        bet_amount=Decimal("0.5"),
        expires_at=timezone.now() + timedelta(days=7),
        status="issued",
        **fields,
    )


# --- the cards' refresh action: only for roles that change cards ----------------------------


def _actions(client: Client) -> list[str]:
    response = client.get(reverse("admin:operator_cards_operatorcard_changelist"))
    assert response.status_code == 200
    form = response.context["action_form"]
    return [] if form is None else [name for name, _ in form.fields["action"].choices if name]


def test_refresh_use_is_offered_to_support_and_not_to_read_only_or_finance(
    support_user, readonly_user, finance_user, as_user
) -> None:
    _card()
    assert "refresh_usage" in _actions(as_user(support_user))
    assert "refresh_usage" not in _actions(as_user(readonly_user))
    assert "refresh_usage" not in _actions(as_user(finance_user))


def test_read_only_cannot_run_the_refresh_by_posting_it(readonly_user, as_user) -> None:
    card = _card()
    before = OperatorCard.objects.values().get(pk=card.pk)
    response = as_user(readonly_user).post(
        reverse("admin:operator_cards_operatorcard_changelist"),
        {"action": "refresh_usage", "_selected_action": [card.pk]},
        follow=True,
    )
    assert "changed status" not in html(response)
    assert OperatorCard.objects.values().get(pk=card.pk) == before


def test_a_user_with_only_the_cancel_permission_may_refresh(as_user) -> None:
    user = staff("cora", "Read-only")
    user.user_permissions.add(Permission.objects.get(codename="cancel_operatorcard"))
    _card()
    assert "refresh_usage" in _actions(as_user(user))


# --- the demo shows every stuck kind at once -------------------------------------------------


def test_the_demo_has_a_bet_of_each_stuck_kind_and_stays_idempotent(settings) -> None:
    settings.DEMO_KEYS = True
    call_command("demo", "--no-migrate", verbosity=0)
    for reason in StuckReason:
        assert stuck_bets(reason).exists(), reason
    counts = (Bet.objects.count(), LedgerEntry.objects.count(), JournalEntry.objects.count())
    call_command("demo", "--no-migrate", verbosity=0)
    again = (Bet.objects.count(), LedgerEntry.objects.count(), JournalEntry.objects.count())
    assert again == counts
    for reason in StuckReason:
        assert stuck_bets(reason).exists(), reason


def test_a_settled_bet_is_not_shown_as_needing_review(superuser, as_user) -> None:
    make_player("alice", "USD", "100")
    bet_and_settle("b-settled")
    page = html(as_user(superuser).get(reverse("admin:wallet_bet_changelist")))
    assert "needs review</span>" not in page
