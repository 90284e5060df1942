"""With STAFF_2FA_REQUIRED on, a password-only session reaches nothing: no admin page, no staff
action, no finance export, no API view. Every admin URL is found from the admin site itself, so
a page added later is checked without touching this file; the money actions are also sent for
real, and shown to work once the code is typed (so the refusal is the second factor's)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from providers.vp.cards.models import CardStatusChange, OperatorCard
from tests.admin.conftest import open_bet, staff
from tests.second_factor_kit import Authenticator, give_second_factor, password_only, signed_in
from wallet.models import AuditEntry, Bet, BetState, Player

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("required", "alice")]

VERIFY = reverse("admin:second_factor_verify")
SET_UP = reverse("admin:second_factor_enrol")
LOGIN = reverse("admin:login")
#: The pages a password-only session must reach: the sign-in itself.
SIGN_IN_PAGES = {
    "admin:login",
    "admin:second_factor_verify",
    "admin:second_factor_enrol",
    "admin:second_factor_sign_out",
}
SECOND_FACTOR_MIDDLEWARE = "backoffice.second_factor.middleware.SecondFactorMiddleware"


@pytest.fixture
def required(settings: Any) -> None:
    settings.STAFF_2FA_REQUIRED = True


def _sample(match: re.Match[str]) -> str:
    return "1"  # an id, a primary key or a path segment: the gate answers before any lookup


def admin_urls() -> list[tuple[str, str]]:
    """(name, path) of every URL of the admin site, with "1" for each id in it."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
                continue
            assert isinstance(pattern, URLPattern)
            if pattern.name == "app_list":
                path = prefix + "wallet/"
            elif route == "(?P<url>.*)$":  # the catch-all: an address that is no page
                path = prefix + "no-such-page/"
            else:
                path = prefix + re.sub(r"<[^>]+>", _sample, route)
            found.append((f"admin:{pattern.name}", path))

    walk(admin.site.get_urls(), reverse("admin:index"))
    return found


def test_every_admin_url_sends_a_password_only_session_to_its_code(support_user) -> None:
    give_second_factor(support_user)
    client = password_only("sam_support")
    checked = 0
    for name, path in admin_urls():
        if name in SIGN_IN_PAGES:
            continue
        for method in (client.get, client.post):
            answer = method(path)
            assert answer.status_code == 302, (name, path, method, answer.status_code)
            assert answer["Location"].startswith(VERIFY), (name, path, answer["Location"])
            checked += 1
    # The site has its model pages, bet actions, card cancel, finance and user pages.
    assert checked > 150, checked


def test_every_admin_url_sends_a_login_without_a_second_factor_to_set_one_up(
    support_user,
) -> None:
    client = password_only("sam_support")
    for name, path in admin_urls():
        if name in SIGN_IN_PAGES:
            continue
        answer = client.get(path)
        assert answer.status_code == 302 and answer["Location"].startswith(SET_UP), (name, path)


# --- the money actions, for real ---------------------------------------------------------------


def _cancel(client: Client, bet: Bet) -> Any:
    return client.post(
        reverse("admin:wallet_bet_cancel", args=[bet.pk]), {"reason": "ticket 9", "confirm": "1"}
    )


def _resolve(client: Client, bet: Bet) -> Any:
    return client.post(
        reverse("admin:wallet_bet_resolve", args=[bet.pk]),
        {"reason": "ticket 9", "win_amount": "3.00", "confirm": "1"},
    )


def _review(client: Client, bet: Bet) -> Any:
    return client.post(
        reverse("admin:wallet_bet_review", args=[bet.pk]), {"reason": "ticket 9", "confirm": "1"}
    )


def _flagged(key: str) -> Bet:
    bet = open_bet(key)
    Bet.objects.filter(pk=bet.pk).update(needs_review=True, review_reason="amount differs")
    return Bet.objects.get(pk=bet.pk)


@pytest.mark.parametrize(
    ("action", "make_bet", "done"),
    [
        (_cancel, open_bet, lambda bet: bet.state == BetState.CANCELLED),
        (_resolve, open_bet, lambda bet: bet.state == BetState.SETTLED),
        (_review, _flagged, lambda bet: not bet.needs_review),
    ],
    ids=["cancel", "resolve", "review"],
)
def test_a_bet_action_is_refused_on_the_password_alone_and_works_after_the_code(
    support_user, action, make_bet, done
) -> None:
    phone = give_second_factor(support_user)
    bet = make_bet("b1")
    answer = action(password_only("sam_support"), bet)
    assert answer.status_code == 302 and answer["Location"].startswith(VERIFY)
    bet.refresh_from_db()
    assert not done(bet) and not AuditEntry.objects.exists()

    answer = action(signed_in("sam_support", phone), bet)
    bet.refresh_from_db()
    assert done(bet), answer.content.decode()[:2000]
    assert AuditEntry.objects.filter(bet=bet).count() == 1


def _card() -> OperatorCard:
    return OperatorCard.objects.create(
        spin_id="OC26120600000000001",
        player=Player.objects.get(account_id="alice"),
        currency="USD",
        game_code="VP_SLOT_1",
        card_type=1,
        rounds=10,
        bet_amount=Decimal("0.5"),
        expires_at=timezone.now() + timedelta(days=3),
        status="issued",
    )


def test_a_card_cancel_is_refused_on_the_password_alone(support_user) -> None:
    phone = give_second_factor(support_user)
    card = _card()
    cancel = reverse("admin:operator_cards_operatorcard_cancel", args=[card.pk])
    changelist = reverse("admin:operator_cards_operatorcard_changelist")
    client = password_only("sam_support")
    for path, data in [
        (cancel, {"confirm": "yes", "reason": "player asked"}),
        (
            changelist,
            {
                "action": "cancel_cards",
                ACTION_CHECKBOX_NAME: [card.pk],
                "confirm": "yes",
                "reason": "player asked",
            },
        ),
    ]:
        answer = client.post(path, data)
        assert answer.status_code == 302 and answer["Location"].startswith(VERIFY)
    card.refresh_from_db()
    assert card.status == "issued" and not CardStatusChange.objects.exists()
    # The same page opens once the code is typed (its confirmation; nothing sent to VP).
    page = signed_in("sam_support", phone).get(cancel)
    assert page.status_code == 200 and "Cancel operator cards at VP" in page.content.decode()


def test_finance_exports_are_refused_on_the_password_alone() -> None:
    finance = staff("fay_finance", "Finance")
    phone = give_second_factor(finance)
    client = password_only("fay_finance")
    for name in ("admin:finance_export", "admin:finance_summary", "admin:finance_diff"):
        answer = client.get(reverse(name), {"download": "1"})
        assert answer.status_code == 302 and answer["Location"].startswith(VERIFY), name
        assert "text/csv" not in answer.get("Content-Type", "")
    export = signed_in("fay_finance", phone).get(reverse("admin:finance_export"), {"download": "1"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")


def test_without_the_middleware_the_admin_site_still_refuses(settings, support_user) -> None:
    """Defence in depth: the admin site's own permission check holds the same rule."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != SECOND_FACTOR_MIDDLEWARE]
    give_second_factor(support_user)
    bet = open_bet("b1")
    client = password_only("sam_support")
    answer = _cancel(client, bet)
    assert answer.status_code == 302 and answer["Location"].startswith(LOGIN)
    bet.refresh_from_db()
    assert bet.state == BetState.OPEN
    assert client.get(reverse("admin:finance_export"))["Location"].startswith(LOGIN)
    assert client.get(reverse("admin:index"))["Location"].startswith(LOGIN)


# --- outside the admin: the operator API from the browser ---------------------------------------


@pytest.fixture
def with_api_probe(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.admin.second_factor_urls"


def test_an_api_view_answers_a_password_only_session_403_in_json(
    with_api_probe, support_user
) -> None:
    phone = give_second_factor(support_user)
    answer = password_only("sam_support").get("/api-probe/")
    assert answer.status_code == 403
    assert "Sign-in is not finished" in answer.json()["detail"]
    assert signed_in("sam_support", phone).get("/api-probe/").json() == {"verified": True}


def test_staff_is_verified_tells_the_api_by_itself(with_api_probe, settings, support_user) -> None:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != SECOND_FACTOR_MIDDLEWARE]
    phone = give_second_factor(support_user)
    assert password_only("sam_support").get("/api-probe/").json() == {"verified": False}
    assert signed_in("sam_support", phone).get("/api-probe/").json() == {"verified": True}


def test_machines_with_no_session_are_not_the_middlewares_business(with_api_probe) -> None:
    # An anonymous request passes through to the view, which answers with its own refusal.
    answer = Client().get("/api-probe/")
    assert answer.status_code == 403
    assert "Sign-in is not finished" not in answer.content.decode()


def test_the_kit_authenticator_gives_codes_the_server_accepts(support_user) -> None:
    phone = give_second_factor(support_user)
    assert isinstance(phone, Authenticator)
    assert signed_in("sam_support", phone).get(reverse("admin:index")).status_code == 200
