"""Money typed by staff: one strict parser, the separator is always the decimal point, anything
ambiguous refused with an example; the confirmation spells large wins out in words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.admin.conftest import open_bet
from tests.admin.test_staff_actions import action_url
from tests.helpers import balance, make_player
from wallet.models import Bet, BetState, LedgerEntry

D = Decimal

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("alice", "ledger_is_consistent"),
]


@pytest.mark.parametrize(
    ("typed", "credited"),
    [("0,50", "0.50"), ("0.50", "0.50"), ("1,5", "1.50"), ("007", "7.00"), (" 2.25 ", "2.25")],
)
def test_a_win_typed_with_either_separator_is_credited_exactly(
    as_user, support_user, typed, credited
) -> None:
    bet = open_bet("b1", amount="10")
    client = as_user(support_user)
    preview = client.post(action_url(bet, "resolve"), {"win_amount": typed, "reason": "log"})
    html = preview.content.decode()
    assert f"+{credited} USD" in html, html[:2000]
    # The confirmation posts the win back in the currency's decimals, and it is credited as is.
    assert f'name="win_amount" value="{credited}"' in html
    client.post(
        action_url(bet, "resolve"), {"win_amount": credited, "reason": "log", "confirm": "1"}
    )
    assert balance() == D("90") + D(credited)
    assert LedgerEntry.objects.filter(kind="win").get().amount == D(credited)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("1.000,50", "is not a plain amount"),
        ("1,000.50", "is not a plain amount"),
        ("1e3", "is not a plain amount"),
        ("-2", "has a sign"),
        ("+2", "has a sign"),
        ("0.1234567", "has 7 decimals; USD has 2"),
        ("1.000", "has 3 decimals; USD has 2"),
        ("1 000", "is not a plain amount"),
        ("", "is empty"),
        ("12345678901234567890123.12", "is too large"),
    ],
)
def test_an_ambiguous_or_impossible_win_is_refused_with_an_example(
    as_user, support_user, typed, why
) -> None:
    bet = open_bet("b1", amount="10")
    for step in ({}, {"confirm": "1"}):
        page = as_user(support_user).post(
            action_url(bet, "resolve"), {"win_amount": typed, "reason": "log", **step}
        )
        html = page.content.decode()
        assert page.status_code == 200
        assert why in html, html[:3000]
        assert "for example 12.50 or 12,50" in html or "digits before the decimal point" in html
        assert 'name="confirm"' not in html
    assert balance() == D("90")
    assert not LedgerEntry.objects.filter(kind="win").exists()
    assert Bet.objects.get(pk=bet.pk).state == BetState.OPEN


def test_a_currency_without_decimals_refuses_a_fraction(as_user, support_user) -> None:
    make_player("kenji", "JPY", "1000")
    bet = open_bet("j1", amount="100", account_id="kenji", currency="JPY")
    page = as_user(support_user).post(
        action_url(bet, "resolve"), {"win_amount": "5,5", "reason": "x"}
    )
    assert "JPY has 0: type digits only, for example 12" in page.content.decode()


def test_a_large_win_is_spelled_out_before_it_is_credited(as_user, support_user) -> None:
    bet = open_bet("b1", amount="10")
    page = as_user(support_user).post(
        action_url(bet, "resolve"), {"win_amount": "1005,50", "reason": "jackpot"}
    )
    html = page.content.decode()
    assert "+1005.50 USD" in html
    assert "one thousand and five USD and 50/100" in html
    small = as_user(support_user).post(
        action_url(bet, "resolve"), {"win_amount": "5", "reason": "x"}
    )
    assert "win-words" not in small.content.decode()


def test_a_win_past_the_balance_limit_is_refused_not_a_500(as_user, support_user) -> None:
    bet = open_bet("r1", amount="10")
    response = as_user(support_user).post(
        action_url(bet, "resolve"),
        {"win_amount": "99999999999999", "reason": "x", "confirm": "1"},
        follow=True,
    )
    assert response.status_code == 200
    text = " ".join(str(m) for m in response.context["messages"])
    assert "largest balance a wallet can hold" in text and "Nothing was changed" in text
    assert balance() == D("90")
    assert Bet.objects.get(pk=bet.pk).state == BetState.OPEN
