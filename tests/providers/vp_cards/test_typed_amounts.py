"""The card form's amounts go through the one parser of typed money, in the player's currency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from providers.vp.cards.models import OperatorCard
from tests.providers.vp_cards.fake_vp import FakeVp
from tests.providers.vp_cards.test_admin import ISSUE, USE, as_user, issue_form
from wallet.models import Player

pytestmark = pytest.mark.django_db


def test_a_bet_typed_with_a_decimal_comma_is_the_listed_bet(
    fake_vp: FakeVp, alice: Player, support
) -> None:
    as_user(support).post(ISSUE, issue_form(bet_amount="0,5", max_win_amount="100,25"))
    card = OperatorCard.objects.get()
    assert (card.bet_amount, card.max_win_amount) == (Decimal("0.5"), Decimal("100.25"))


@pytest.mark.parametrize(
    ("field", "typed", "error"),
    [
        ("max_win_amount", "1.000,50", "is not a plain amount"),
        ("max_win_amount", "1e3", "is not a plain amount"),
        ("max_win_amount", "-5", "has a sign"),
        ("bet_amount", "0.505", "has 3 decimals"),
    ],
)
def test_an_ambiguous_amount_is_refused_with_an_example(
    fake_vp: FakeVp, alice: Player, support, field: str, typed: str, error: str
) -> None:
    response = as_user(support).post(ISSUE, issue_form(**{field: typed}))
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert error in errors and "for example 12.50" in errors, errors
    assert not OperatorCard.objects.exists() and fake_vp.calls(USE) == []
