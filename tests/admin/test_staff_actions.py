"""The three staff money actions through the admin: permissions, confirmation pages, refusals,
the audit row and the ledger effect on the balance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.admin.conftest import bet_and_settle, open_bet, staff
from tests.helpers import balance, ledger_kinds
from wallet.models import AuditEntry, Bet, BetState
from wallet.services import bet_cancel

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("alice", "ledger_is_consistent"),
]

D = Decimal


def action_url(bet: Bet, slug: str) -> str:
    return reverse(f"admin:wallet_bet_{slug}", args=[bet.pk])


def bet_url(bet: Bet) -> str:
    return reverse("admin:wallet_bet_change", args=[bet.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- cancel and refund -----------------------------------------------------------------------


def test_cancel_confirmation_page_shows_the_amounts_and_balance_effect(
    as_user, support_user
) -> None:
    bet = open_bet("b1", amount="12.5")
    page = as_user(support_user).get(action_url(bet, "cancel"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cancel and refund" in html
    assert "12.50 USD" in html  # the stake
    assert "87.50 USD" in html and "100.00 USD" in html  # balance before -> after
    assert 'name="reason"' in html and "csrfmiddlewaretoken" in html
    # Showing the page changed nothing.
    assert balance() == D("87.5")
    assert not AuditEntry.objects.exists()


def test_support_cancels_an_open_bet_with_a_reason(as_user, support_user) -> None:
    bet = open_bet("b1", amount="12.5")
    client = as_user(support_user)
    response = client.post(
        action_url(bet, "cancel"), {"reason": "Provider ticket 77", "confirm": "1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == bet_url(bet)
    assert balance() == D("100")
    bet.refresh_from_db()
    assert bet.state == BetState.CANCELLED and bet.cancel_outcome == "cancelled"
    assert ledger_kinds("b1", "buffalo") == [("stake", D("-12.5")), ("refund", D("12.5"))]
    audit = AuditEntry.objects.get()
    assert audit.actor == support_user and audit.action == "cancel_and_refund"
    assert audit.reason == "Provider ticket 77"
    assert audit.before["balance"] == "87.500000" and audit.after["balance"] == "100.000000"
    assert audit.before["state"] == "open" and audit.after["state"] == "cancelled"
    refund = bet.entries.get(kind="refund")
    assert refund.staff_user == support_user and refund.reason == "Provider ticket 77"
    text = " ".join(messages_of(response))
    assert "87.50 USD → 100.00 USD" in text
    # The bet page now shows the new state, the balance and the audit row.
    html = response.content.decode()
    assert "Cancelled (stake refunded)" in html and "100.00 USD" in html
    assert "Provider ticket 77" in html and "sam_support" in html


def test_refunding_a_bet_already_cancelled_is_refused_with_a_clear_message(
    as_user, support_user
) -> None:
    bet = open_bet("b1")
    bet_cancel(provider="buffalo", bet_keys=["b1"], tx_id="c1")
    client = as_user(support_user)
    page = client.get(action_url(bet, "cancel"), follow=True)
    assert "Only an open bet can be cancelled and refunded; this one is cancelled" in " ".join(
        messages_of(page)
    )
    response = client.post(action_url(bet, "cancel"), {"reason": "again", "confirm": "1"})
    assert response.status_code == 302
    assert balance() == D("100")
    assert ledger_kinds("b1", "buffalo") == [("stake", D("-10")), ("refund", D("10"))]
    assert not AuditEntry.objects.exists()


def test_a_second_staff_refund_from_a_stale_page_is_refused_by_the_service(
    as_user, support_user
) -> None:
    """Two staff open the confirmation page; the second submit must not refund twice."""
    bet = open_bet("b1")
    other = staff("second_support", "Support")
    first, second = as_user(support_user), as_user(other)
    assert second.get(action_url(bet, "cancel")).status_code == 200
    first.post(action_url(bet, "cancel"), {"reason": "first", "confirm": "1"})
    late = second.post(action_url(bet, "cancel"), {"reason": "second", "confirm": "1"}, follow=True)
    assert "this one is cancelled" in " ".join(messages_of(late))
    assert balance() == D("100")
    assert AuditEntry.objects.count() == 1


def test_a_reason_is_required(as_user, support_user) -> None:
    bet = open_bet("b1")
    page = as_user(support_user).post(action_url(bet, "cancel"), {"reason": "   ", "confirm": "1"})
    assert page.status_code == 200
    assert "Write why you are doing this" in page.content.decode()
    assert balance() == D("90")
    assert not AuditEntry.objects.exists()


# --- resolve as settled -------------------------------------------------------------------------


def test_resolve_shows_the_effect_of_the_win_before_confirming(as_user, support_user) -> None:
    bet = open_bet("b1", amount="10")
    client = as_user(support_user)
    first = client.get(action_url(bet, "resolve"))
    assert 'name="win_amount"' in first.content.decode()
    preview = client.post(
        action_url(bet, "resolve"), {"win_amount": "25.5", "reason": "Game log", "preview": "1"}
    )
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "90.00 USD" in html and "115.50 USD" in html and "+25.50 USD" in html
    assert 'name="confirm"' in html
    assert balance() == D("90")  # a preview moves nothing
    assert not AuditEntry.objects.exists()


def test_support_resolves_an_open_bet_crediting_a_win(as_user, support_user) -> None:
    bet = open_bet("b1", amount="10")
    response = as_user(support_user).post(
        action_url(bet, "resolve"),
        {"win_amount": "25.5", "reason": "Game log shows a win", "confirm": "1"},
        follow=True,
    )
    assert balance() == D("115.5")
    bet.refresh_from_db()
    assert bet.state == BetState.SETTLED and bet.win == D("25.5")
    assert ledger_kinds("b1", "buffalo") == [("stake", D("-10")), ("win", D("25.5"))]
    audit = AuditEntry.objects.get()
    assert audit.action == "resolve_as_settled"
    assert (audit.before["balance"], audit.after["balance"]) == ("90.000000", "115.500000")
    assert "90.00 USD → 115.50 USD" in " ".join(messages_of(response))


def test_resolving_a_lost_bet_credits_nothing(as_user, support_user) -> None:
    bet = open_bet("b1", amount="10")
    as_user(support_user).post(
        action_url(bet, "resolve"), {"win_amount": "0", "reason": "lost", "confirm": "1"}
    )
    assert balance() == D("90")
    bet.refresh_from_db()
    assert bet.state == BetState.SETTLED
    assert AuditEntry.objects.get().after["state"] == "settled"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "has a sign"),
        ("abc", "is not a plain amount"),
        ("1.0000001", "has 7 decimals; USD has 2"),
        ("NaN", "is not a plain amount"),
    ],
)
def test_resolve_refuses_a_bad_win_amount(as_user, support_user, amount, message) -> None:
    bet = open_bet("b1")
    page = as_user(support_user).post(
        action_url(bet, "resolve"), {"win_amount": amount, "reason": "x", "confirm": "1"}
    )
    assert page.status_code == 200
    assert message in page.content.decode()
    assert balance() == D("90")
    assert Bet.objects.get(pk=bet.pk).state == BetState.OPEN


def test_resolving_a_settled_round_is_refused(as_user, support_user) -> None:
    bet = bet_and_settle("r1")
    before = balance()
    response = as_user(support_user).post(
        action_url(bet, "resolve"), {"win_amount": "1", "reason": "x", "confirm": "1"}, follow=True
    )
    assert "Only an open bet can be resolved as settled; this one is settled" in " ".join(
        messages_of(response)
    )
    assert balance() == before
    assert not AuditEntry.objects.exists()


# --- mark reviewed --------------------------------------------------------------------------------


def test_support_marks_a_flagged_bet_reviewed_without_moving_money(as_user, support_user) -> None:
    open_bet("b1", amount="10")
    open_bet("b1", amount="11")  # reused key: flagged
    bet = Bet.objects.get(bet_key="b1")
    assert bet.needs_review
    client = as_user(support_user)
    page = client.get(action_url(bet, "review"))
    assert "No money moves" in page.content.decode()
    response = client.post(
        action_url(bet, "review"), {"reason": "Provider confirmed 10", "confirm": "1"}, follow=True
    )
    bet.refresh_from_db()
    assert not bet.needs_review
    assert bet.details["reviewed_reason"].startswith("The bet id was reused")
    assert balance() == D("90")
    assert AuditEntry.objects.get().action == "mark_reviewed"
    assert "Mark reviewed done" in " ".join(messages_of(response))


def test_marking_an_unflagged_bet_reviewed_is_refused(as_user, support_user) -> None:
    bet = open_bet("b1")
    response = as_user(support_user).post(
        action_url(bet, "review"), {"reason": "x", "confirm": "1"}, follow=True
    )
    assert "not flagged for review" in " ".join(messages_of(response))
    assert not AuditEntry.objects.exists()


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["cancel", "resolve", "review"])
@pytest.mark.parametrize("role", ["readonly_user", "finance_user"])
def test_staff_without_the_permission_cannot_run_an_action(
    request, as_user, role: str, slug: str
) -> None:
    open_bet("b1", amount="10")
    open_bet("b1", amount="11")  # flagged too, so every action would be allowed by state
    bet = Bet.objects.get(bet_key="b1")
    client = as_user(request.getfixturevalue(role))
    assert client.get(action_url(bet, slug)).status_code == 403
    posted = client.post(
        action_url(bet, slug), {"reason": "sneaky", "win_amount": "5", "confirm": "1"}
    )
    assert posted.status_code == 403
    assert balance() == D("90")
    assert not AuditEntry.objects.exists()
    # ... and the bet page does not offer the action.
    page = client.get(bet_url(bet)).content.decode()
    assert f'id="action-{slug}"' not in page
    assert "changing it needs the Support role" in page


def test_each_permission_allows_only_its_own_action(as_user) -> None:
    from django.contrib.auth.models import Permission

    user = staff("reviewer", "Read-only")
    user.user_permissions.add(Permission.objects.get(codename="review_bet"))
    open_bet("b1", amount="10")
    open_bet("b1", amount="11")
    bet = Bet.objects.get(bet_key="b1")
    client = as_user(user)
    page = client.get(bet_url(bet)).content.decode()
    assert 'id="action-review"' in page
    assert 'id="action-cancel"' not in page and 'id="action-resolve"' not in page
    assert (
        client.post(action_url(bet, "cancel"), {"reason": "x", "confirm": "1"}).status_code == 403
    )
    assert (
        client.post(action_url(bet, "review"), {"reason": "ok", "confirm": "1"}).status_code == 302
    )
    assert balance() == D("90")


def test_support_sees_only_the_actions_the_state_allows(as_user, support_user) -> None:
    bet = open_bet("b1")
    page = as_user(support_user).get(bet_url(bet)).content.decode()
    assert 'id="action-cancel"' in page and 'id="action-resolve"' in page
    assert 'id="action-review"' not in page  # not flagged
    settled = bet_and_settle("r1")
    page = as_user(support_user).get(bet_url(settled)).content.decode()
    assert 'id="action-cancel"' not in page and 'id="no-actions"' in page


def test_actions_need_a_logged_in_staff_user(client) -> None:
    bet = open_bet("b1")
    response = client.post(action_url(bet, "cancel"), {"reason": "x", "confirm": "1"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert balance() == D("90")


def test_actions_are_csrf_protected(support_user) -> None:
    from django.test import Client

    bet = open_bet("b1")
    client = Client(enforce_csrf_checks=True)
    client.force_login(support_user)
    response = client.post(action_url(bet, "cancel"), {"reason": "x", "confirm": "1"})
    assert response.status_code == 403
    assert balance() == D("90")
    assert not AuditEntry.objects.exists()


def test_unknown_bet_is_a_404(as_user, support_user) -> None:
    assert as_user(support_user).get("/admin/wallet/bet/999999/cancel/").status_code == 404
