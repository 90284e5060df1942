"""Manual adjustments in the admin: who may, the form and its confirmation, refusals, and the
ledger row, audit row and balance they leave."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.admin.conftest import staff
from tests.helpers import balance
from wallet.models import AuditEntry, LedgerEntry, LedgerKind, Wallet
from wallet.services import StaffActionRefused, wallet_staff_adjust

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal


@pytest.fixture
def wallet(alice) -> Wallet:
    return Wallet.objects.get(player=alice)


def adjust_url(wallet: Wallet) -> str:
    return reverse("admin:wallet_wallet_adjust", args=[wallet.pk])


def form(direction: str = "credit", amount: str = "12,50", category: str = "goodwill") -> dict:
    return {
        "direction": direction,
        "amount": amount,
        "category": category,
        "reason": "Ticket 4411: game froze",
    }


def test_the_player_page_offers_the_adjustment_to_support_only(
    as_user, support_user, readonly_user, wallet
) -> None:
    url = reverse("admin:wallet_player_change", args=[wallet.player_id])
    assert adjust_url(wallet) in as_user(support_user).get(url).content.decode()
    assert adjust_url(wallet) not in as_user(readonly_user).get(url).content.decode()
    refused = as_user(readonly_user).get(adjust_url(wallet))
    assert refused.status_code == 403
    assert (
        as_user(readonly_user).post(adjust_url(wallet), {**form(), "confirm": "1"}).status_code
        == 403
    )
    assert balance() == D("100")


def test_preview_shows_the_effect_then_confirm_credits_once(as_user, support_user, wallet) -> None:
    client = as_user(support_user)
    page = client.get(adjust_url(wallet)).content.decode()
    assert "Amount in USD" in page and "100.00 USD" in page
    preview = client.post(adjust_url(wallet), {**form(), "preview": "1"}).content.decode()
    # The typed "12,50" is read as twelve and a half, shown with its currency, nothing moved.
    assert "12.50 USD" in preview and "112.50 USD" in preview and "+12.50 USD" in preview
    assert 'name="confirm"' in preview and 'value="12.50"' in preview
    assert balance() == D("100") and not AuditEntry.objects.exists()

    done = client.post(adjust_url(wallet), {**form(amount="12.50"), "confirm": "1"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse(
        "admin:wallet_player_change", args=[wallet.player_id]
    )
    assert balance() == D("112.50")
    row = LedgerEntry.objects.get(kind=LedgerKind.STAFF_ADJUSTMENT)
    assert (row.amount, row.balance_after) == (D("12.5"), D("112.5"))
    assert row.staff_user == support_user and row.reason == "Goodwill: Ticket 4411: game froze"
    audit = AuditEntry.objects.get()
    assert audit.action == "staff_adjustment" and audit.player_id == wallet.player_id
    assert audit.before["balance"] == "100.000000" and audit.after["balance"] == "112.500000"
    assert audit.after["category"] == "goodwill" and audit.after["amount"] == "12.500000"
    assert "100.00 USD → 112.50 USD" in " ".join(str(m) for m in done.context["messages"])


def test_a_debit_past_the_balance_is_refused_and_moves_nothing(
    as_user, support_user, wallet
) -> None:
    client = as_user(support_user)
    response = client.post(
        adjust_url(wallet), {**form("debit", "100.01", "chargeback"), "confirm": "1"}, follow=True
    )
    text = " ".join(str(m) for m in response.context["messages"])
    assert "The balance is 100.00 USD, less than the 100.01 USD to debit" in text
    assert balance() == D("100")
    assert not LedgerEntry.objects.filter(kind=LedgerKind.STAFF_ADJUSTMENT).exists()
    assert not AuditEntry.objects.exists()


def test_a_debit_of_the_whole_balance_leaves_zero(as_user, support_user, wallet) -> None:
    as_user(support_user).post(
        adjust_url(wallet), {**form("debit", "100", "correction"), "confirm": "1"}
    )
    assert balance() == D("0")
    assert LedgerEntry.objects.get(kind=LedgerKind.STAFF_ADJUSTMENT).amount == D("-100")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "1.000,50"}, "amount", "is not a plain amount"),
        ({"amount": "-2"}, "amount", "has a sign"),
        ({"amount": "0.125"}, "amount", "has 3 decimals; USD has 2"),
        ({"amount": "0"}, "amount", "must be more than 0"),
        ({"category": "bonus"}, "category", "Select a valid choice"),
        ({"direction": ""}, "direction", "Choose whether"),
        ({"reason": "  "}, "reason", "Write why"),
    ],
)
def test_bad_input_is_refused_with_its_reason(
    as_user, support_user, wallet, changes, field, message
) -> None:
    response = as_user(support_user).post(adjust_url(wallet), {**form(), **changes, "confirm": "1"})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert balance() == D("100") and not AuditEntry.objects.exists()


def test_the_service_refuses_zero_and_unknown_categories(support_user, wallet) -> None:
    with pytest.raises(StaffActionRefused, match="0 moves nothing"):
        wallet_staff_adjust(
            wallet_id=wallet.pk, amount=D(0), category="other", actor=support_user, reason="x"
        )
    with pytest.raises(StaffActionRefused, match="Choose a category"):
        wallet_staff_adjust(
            wallet_id=wallet.pk, amount=D(1), category="bonus", actor=support_user, reason="x"
        )
    assert balance() == D("100")


def test_the_audit_list_shows_the_adjustment_in_words_with_its_currency(
    as_user, support_user, wallet
) -> None:
    wallet_staff_adjust(
        wallet_id=wallet.pk,
        amount=D("-2.5"),
        category="correction",
        actor=support_user,
        reason="Double deposit",
    )
    html = (
        as_user(staff("ava", superuser=True))
        .get(reverse("admin:wallet_auditentry_changelist"))
        .content.decode()
    )
    assert "Manual adjustment" in html and "100.00 USD" in html and "97.50 USD" in html
