"""Amounts typed into "Resolve as settled" in a real browser, at a laptop's 1366x768.

A comma is the decimal point ("0,50" is fifty cents); thousands separators, exponents, signs
and more decimals than the currency has are refused with the form's error, no ledger row and
the balance unchanged. Accepted amounts are checked on the confirmation page and in the ledger.
The resolve confirmation is saved for the support guide (docs/img/resolve-confirmation.png).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tests.admin.conftest import ensure_roles
from tests.browser.conftest import log_in, save_doc_image
from tests.helpers import balance, make_player
from wallet.models import Bet, BetState, LedgerEntry, LedgerKind
from wallet.services import bet_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "resolve-password-123"
CASES: list[tuple[str, str | None]] = [
    ("0,50", "0.50"),
    ("0.50", "0.50"),
    ("1,5", "1.50"),
    ("1.000,50", None),
    ("1e3", None),
    ("-2", None),
    ("0.1234567", None),
]


def _open(key: str) -> Bet:
    result = bet_open(
        provider="buffalo",
        bet_key=key,
        tx_id=f"tx-{key}",
        account_id="pat",
        currency="USD",
        amount=Decimal("1"),
        round_id=f"round-{key}",
    )
    assert result.bet is not None, result
    return Bet.objects.get(pk=result.bet.pk)


def _preview(page, bet: Bet, typed: str) -> None:
    page.goto(f"/admin/wallet/bet/{bet.pk}/resolve/")
    page.fill("input[name=win_amount]", typed)
    page.fill("textarea[name=reason]", f"Provider ticket BUF-77: typed {typed}")
    page.click("input[name=preview]")
    page.wait_for_load_state()


def test_typed_wins_are_read_with_a_decimal_comma_or_refused(laptop_page) -> None:
    ensure_roles()
    user = get_user_model().objects.create_user("sam", "", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    make_player("pat", "USD", "100")
    log_in(laptop_page, "sam", PASSWORD)
    page = laptop_page

    results: dict[str, str] = {}
    for n, (typed, expected) in enumerate(CASES):
        bet = _open(f"resolve-{n}")
        before = balance("pat", "USD")
        _preview(page, bet, typed)
        if expected is None:
            errors = page.locator("ul.errorlist")
            assert errors.count() > 0, f"{typed!r} was not refused"
            assert typed in errors.first.inner_text(), "the error shows what was typed"
            assert page.locator("input[name=confirm]").count() == 0
            assert not LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.WIN).exists()
            assert balance("pat", "USD") == before
            assert Bet.objects.get(pk=bet.pk).state == BetState.OPEN
            results[typed] = "refused"
            continue
        form = page.locator("#staff-action-form").inner_text()
        assert f"{expected} USD" in form, (typed, form)
        after = f"{before + Decimal(expected):.2f} USD"
        assert page.locator("#balance-after").inner_text() == after, typed
        page.click("input[name=confirm]")
        page.wait_for_load_state()
        wins = list(LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.WIN))
        assert [w.amount for w in wins] == [Decimal(expected)], typed
        assert balance("pat", "USD") == before + Decimal(expected)
        assert Bet.objects.get(pk=bet.pk).state == BetState.SETTLED
        results[typed] = expected
    assert results == {typed: expected or "refused" for typed, expected in CASES}


def test_the_resolve_confirmation_for_the_guide(laptop_page) -> None:
    ensure_roles()
    user = get_user_model().objects.create_user("sam", "", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    make_player("pat", "USD", "100")
    bet = _open("resolve-guide")
    log_in(laptop_page, "sam", PASSWORD)
    _preview(laptop_page, bet, "1250,5")
    assert "1250.50 USD" in laptop_page.locator("#staff-action-form").inner_text()
    assert laptop_page.locator("input[name=confirm]").count() == 1
    assert save_doc_image(laptop_page, "resolve-confirmation").stat().st_size > 10_000
    assert not LedgerEntry.objects.filter(bet=bet, kind=LedgerKind.WIN).exists()
