"""The admin for support staff: issue, list/filter, cancel (with reason and confirmation),
each with and without the card permissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from providers.vp.cards.models import CardStatus, CardStatusChange, OperatorCard
from providers.vp.cards.services import CardResult
from tests.providers.vp_cards.conftest import make_staff
from tests.providers.vp_cards.fake_vp import FakeVp, closed_port_url
from wallet.models import Player

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:operator_cards_operatorcard_changelist")
ISSUE = reverse("admin:operator_cards_operatorcard_add")
CANCEL = "/v2/items/cancel"
USE = "/v2/items/use"


def change_url(card: OperatorCard) -> str:
    return reverse("admin:operator_cards_operatorcard_change", args=[card.pk])


def cancel_url(card: OperatorCard) -> str:
    return reverse("admin:operator_cards_operatorcard_cancel", args=[card.pk])


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def issue_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "player": "alice",
        "method": "items/use",
        "game_code": "VP_SLOT_1",
        "card_type": "1",
        "rounds": "10",
        "bet_amount": "0.50",
        "max_win_amount": "100",
        "expires_at": (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%d %H:%M"),
        "reason": "birthday gift",
    }
    data.update(overrides)
    return data


def status(card: OperatorCard) -> str:
    return OperatorCard.objects.values_list("status", flat=True).get(pk=card.pk)


# --- who sees what --------------------------------------------------------------------------------


def test_staff_without_the_view_permission_cannot_see_cards(fake_vp: FakeVp) -> None:
    nobody = make_staff("nobody")
    nobody.user_permissions.clear()
    assert as_user(nobody).get(CHANGELIST).status_code == 403


def test_a_viewer_sees_cards_but_no_issue_or_cancel(
    fake_vp: FakeVp, issued_card: OperatorCard, viewer: Any
) -> None:
    client = as_user(viewer)
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and issued_card.spin_id in page.content.decode()
    assert "Issue a card" not in page.content.decode()
    # No action at all: even "Refresh use and wins" may change a card's status, so it is for
    # the roles that change cards (tests/admin/test_readable_pages.py checks each role).
    assert page.context["action_form"] is None
    assert 'name="action"' not in page.content.decode()
    detail = client.get(change_url(issued_card))
    assert detail.status_code == 200 and "Cancel this card at VP" not in detail.content.decode()
    assert "Status history" in detail.content.decode()  # the history inline is visible
    assert client.get(ISSUE).status_code == 403
    assert client.get(cancel_url(issued_card)).status_code == 403
    assert fake_vp.calls("/v2/items/info") == []


def test_a_viewer_cannot_cancel_by_posting_the_action(
    fake_vp: FakeVp, issued_card: OperatorCard, viewer: Any
) -> None:
    response = as_user(viewer).post(
        CHANGELIST,
        {
            "action": "cancel_cards",
            ACTION_CHECKBOX_NAME: [issued_card.pk],
            "confirm": "yes",
            "reason": "sneaky",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert status(issued_card) == CardStatus.ISSUED and fake_vp.calls(CANCEL) == []


def test_a_viewer_cannot_cancel_through_the_card_url(
    fake_vp: FakeVp, issued_card: OperatorCard, viewer: Any
) -> None:
    response = as_user(viewer).post(cancel_url(issued_card), {"confirm": "yes", "reason": "x"})
    assert response.status_code == 403
    assert status(issued_card) == CardStatus.ISSUED and fake_vp.calls(CANCEL) == []


def test_issue_permission_alone_does_not_allow_cancelling(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    issuer = make_staff("issuer", "issue_operatorcard")
    client = as_user(issuer)
    assert client.get(ISSUE).status_code == 200
    assert client.get(cancel_url(issued_card)).status_code == 403


def test_cancel_permission_alone_does_not_allow_issuing(
    fake_vp: FakeVp, issued_card: OperatorCard
) -> None:
    canceller = make_staff("canceller", "cancel_operatorcard")
    client = as_user(canceller)
    assert client.get(ISSUE).status_code == 403
    page = client.get(change_url(issued_card))
    assert "Cancel this card at VP" in page.content.decode()


# --- issuing ----------------------------------------------------------------------------------


def test_the_issue_form_offers_what_vp_offers(fake_vp: FakeVp, alice: Player, support) -> None:
    page = as_user(support).get(ISSUE)
    form = page.context["form"]
    assert [c for c, _ in form.fields["game_code"].choices] == ["VP_SLOT_1", "VP_SLOT_2"]
    assert [c for c, _ in form.fields["card_type"].choices] == [1, 2, 11]  # not VP_OLD's (off)
    assert 'id="vp-templates"' in page.content.decode()
    assert "Issue a card" in as_user(support).get(CHANGELIST).content.decode()
    assert len(fake_vp.calls("/v2/items/info")) == 1  # the form asks VP; the list does not


def test_staff_issue_a_card(fake_vp: FakeVp, alice: Player, support) -> None:
    response = as_user(support).post(ISSUE, issue_form(), follow=True)
    card = OperatorCard.objects.get()
    assert response.redirect_chain[-1][0] == change_url(card)
    assert messages_of(response) == [f"Card {card.spin_id} issued."]
    assert card.status == CardStatus.ISSUED and card.issued_by == support
    assert card.issue_reason == "birthday gift" and card.player == alice
    assert fake_vp.card(card.spin_id) is not None


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"bet_amount": "0.30"}, "bet_amount", "Not in the game's bet list (0.2, 0.5, 1)"),
        ({"bet_amount": ""}, "bet_amount", "Choose a bet"),
        ({"rounds": "7"}, "rounds", "VP offers this card with 10 round(s) only"),
        ({"game_code": "VP_SLOT_2", "rounds": "1", "bet_amount": "1"}, "card_type", "no card"),
        ({"game_code": "VP_OLD"}, "game_code", "Select a valid choice"),
        ({"player": "nobody"}, "player", "No player 'nobody'"),
        ({"max_win_amount": ""}, "max_win_amount", "need a maximum win"),
        ({"expires_at": "2001-01-01 00:00"}, "expires_at", "future"),
        ({"reason": ""}, "reason", "required"),
        (
            {"method": "items/usesimplefreespin", "card_type": "1", "rounds": "101"},
            "rounds",
            "At most 100",
        ),
        (
            {"method": "items/usesimplefreespin", "card_type": "1", "free_spin_multiple": "4"},
            "free_spin_multiple",
            "1, 2, 3 or 5",
        ),
    ],
)
def test_the_issue_form_refuses_what_vp_does_not_offer(
    fake_vp: FakeVp, alice: Player, support, overrides: dict, field: str, error: str
) -> None:
    response = as_user(support).post(ISSUE, issue_form(**overrides))
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors.get(field, [])), response.context[
        "form"
    ].errors
    assert not OperatorCard.objects.exists() and fake_vp.calls(USE) == []


def test_simple_free_spins_from_the_form(fake_vp: FakeVp, alice: Player, support) -> None:
    form = issue_form(
        method="items/usesimplefreespin", card_type="2", rounds="30", free_spin_multiple="5"
    )
    form["bet_amount"] = "1"
    as_user(support).post(ISSUE, form)
    card = OperatorCard.objects.get()
    assert card.status == CardStatus.ISSUED and card.method == "items/usesimplefreespin"
    assert len(fake_vp.calls("/v2/items/usesimplefreespin")) == 1


def test_a_blocked_player_gets_no_card(fake_vp: FakeVp, alice: Player, support) -> None:
    Player.objects.filter(pk=alice.pk).update(status=Player.Status.BLOCKED)
    response = as_user(support).post(ISSUE, issue_form())
    assert "blocked" in " ".join(response.context["form"].errors["player"])


def test_no_card_can_be_issued_while_vp_cannot_be_read(
    fake_vp: FakeVp, alice: Player, support, settings
) -> None:
    settings.VP_BASE_URL = closed_port_url()
    response = as_user(support).post(ISSUE, issue_form())
    assert response.status_code == 200 and response.context["form"] is None
    assert "could not be read (unreachable" in " ".join(messages_of(response))
    assert not OperatorCard.objects.exists()


def test_a_timed_out_issue_is_reported_and_can_be_resent(
    fake_vp: FakeVp, alice: Player, support
) -> None:
    fake_vp.then(USE, drop=True, apply=True)
    client = as_user(support)
    response = client.post(ISSUE, issue_form(), follow=True)
    card = OperatorCard.objects.get()
    assert card.status == CardStatus.PENDING
    assert "may or may not exist at VP" in messages_of(response)[0]
    response = client.post(
        CHANGELIST, {"action": "resend_issue", ACTION_CHECKBOX_NAME: [card.pk]}, follow=True
    )
    assert messages_of(response) == [f"Card {card.spin_id} issued."]
    assert status(card) == CardStatus.ISSUED


# --- list and filters -----------------------------------------------------------------------------


def test_filters_by_status_player_game_and_date(
    fake_vp: FakeVp, issue: Callable[..., CardResult], viewer: Any
) -> None:
    first = issue().card
    feature = issue(game_code="VP_SLOT_2", card_type=11, rounds=1, bet_amount=None).card
    fake_vp.add_member("bob")
    bob = Player.objects.create(account_id="bob")
    bobs = issue(player=bob).card
    OperatorCard.objects.filter(pk=first.pk).update(
        status=CardStatus.CANCELLED, created_at=timezone.now() - timedelta(days=40)
    )
    client = as_user(viewer)

    def shown(query: str) -> set[str]:
        response = client.get(CHANGELIST + query)
        assert response.status_code == 200, query
        return {card.spin_id for card in response.context["cl"].result_list}

    assert shown("") == {first.spin_id, feature.spin_id, bobs.spin_id}
    assert shown("?status__exact=cancelled") == {first.spin_id}
    assert shown("?player=bob") == {bobs.spin_id}
    assert shown("?game_code=VP_SLOT_2") == {feature.spin_id}
    assert shown("?card_type__exact=11") == {feature.spin_id}
    since = urlencode({"created_at__gte": (timezone.now() - timedelta(days=7)).isoformat()})
    assert shown(f"?{since}") == {feature.spin_id, bobs.spin_id}
    assert shown(f"?q={feature.spin_id}") == {feature.spin_id}
    assert shown("?player=bob&status__exact=issued") == {bobs.spin_id}
    page = client.get(CHANGELIST + "?status__exact=issued").content.decode()
    assert 'name="status__exact" value="issued"' in page  # the player box keeps other filters


# --- cancelling ---------------------------------------------------------------------------------


def test_cancel_action_asks_for_confirmation_first(
    fake_vp: FakeVp, issued_card: OperatorCard, support
) -> None:
    page = as_user(support).post(
        CHANGELIST, {"action": "cancel_cards", ACTION_CHECKBOX_NAME: [issued_card.pk]}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Yes, cancel at VP" in html and issued_card.spin_id in html
    assert 'name="reason"' in html
    assert status(issued_card) == CardStatus.ISSUED and fake_vp.calls(CANCEL) == []


def test_cancel_needs_a_reason(fake_vp: FakeVp, issued_card: OperatorCard, support) -> None:
    page = as_user(support).post(
        CHANGELIST,
        {
            "action": "cancel_cards",
            ACTION_CHECKBOX_NAME: [issued_card.pk],
            "confirm": "yes",
            "reason": "  ",
        },
    )
    assert page.status_code == 200 and "This field is required" in page.content.decode()
    assert status(issued_card) == CardStatus.ISSUED and fake_vp.calls(CANCEL) == []


def test_cancelling_several_cards_reports_each_one(
    fake_vp: FakeVp, issue: Callable[..., CardResult], support
) -> None:
    cancelled, used, unknown_member, unreachable, failed = (issue().card for _ in range(5))
    fake_vp.player_starts(used.spin_id)
    OperatorCard.objects.filter(pk=failed.pk).update(status=CardStatus.FAILED)
    order = [c.pk for c in OperatorCard.objects.order_by("-created_at", "-id")]

    # Script VP's answers in the order the action sends them (newest card first).
    scripted = {unreachable.pk: {"drop": True, "apply": False}, unknown_member.pk: {"code": 8}}
    for pk in order:
        if pk == failed.pk:
            continue
        fake_vp.then(CANCEL, **scripted.get(pk, {}))
    response = as_user(support).post(
        CHANGELIST,
        {
            "action": "cancel_cards",
            ACTION_CHECKBOX_NAME: order,
            "confirm": "yes",
            "reason": "bonus abuse",
        },
        follow=True,
    )
    text = "\n".join(messages_of(response))
    assert f"{cancelled.spin_id}: cancelled." in text
    assert f"{used.spin_id}: not cancelled — already used or completed (VP code 4)." in text
    assert f"{unknown_member.spin_id}: not cancelled — VP does not know member" in text
    assert f"{unreachable.spin_id}: cancel pending — VP unreachable or no final answer" in text
    assert f"{failed.spin_id} cannot be cancelled: VP never issued it." in text
    assert status(cancelled) == CardStatus.CANCELLED
    assert status(used) == CardStatus.COMPLETED
    assert status(unknown_member) == CardStatus.ISSUED
    assert status(unreachable) == CardStatus.CANCEL_PENDING
    assert status(failed) == CardStatus.FAILED
    assert len(fake_vp.calls(CANCEL)) == 4
    who = CardStatusChange.objects.get(card=cancelled, to_status="cancel_pending")
    assert who.actor == support and who.reason == "bonus abuse"


def test_cancel_one_card_from_its_page(fake_vp: FakeVp, issued_card: OperatorCard, support):
    client = as_user(support)
    page = client.get(change_url(issued_card))
    assert cancel_url(issued_card) in page.content.decode()
    confirm = client.get(cancel_url(issued_card))
    assert confirm.status_code == 200 and "Yes, cancel at VP" in confirm.content.decode()
    assert fake_vp.calls(CANCEL) == []
    done = client.post(
        cancel_url(issued_card), {"confirm": "yes", "reason": "wrong player"}, follow=True
    )
    assert done.redirect_chain[-1][0] == change_url(issued_card)
    assert messages_of(done) == [f"{issued_card.spin_id}: cancelled."]
    assert status(issued_card) == CardStatus.CANCELLED
    page = client.get(change_url(issued_card)).content.decode()
    assert "Cancel this card at VP" not in page  # nothing left to cancel
    assert "VP confirmed the cancel" in page  # history


def test_the_card_page_shows_its_bets_and_calls(
    fake_vp: FakeVp, issued_card: OperatorCard, viewer: Any, support: Any
) -> None:
    from tests.providers.vp_cards.test_usage import vp_spin

    vp_spin("spin-1", [issued_card.spin_id], "7.25")
    response = as_user(support).post(
        CHANGELIST, {"action": "refresh_usage", ACTION_CHECKBOX_NAME: [issued_card.pk]}, follow=True
    )
    assert "1 card(s) changed status" in messages_of(response)[0]
    page = as_user(viewer).get(change_url(issued_card)).content.decode()
    assert "spin-1" in page and "7.25" in page
    assert f"?q={issued_card.spin_id}" in page
    assert status(issued_card) == CardStatus.IN_USE


def test_a_superuser_can_do_everything(fake_vp: FakeVp, issued_card: OperatorCard) -> None:
    boss = make_staff("boss", superuser=True)
    client = as_user(boss)
    assert client.get(ISSUE).status_code == 200
    response = client.post(
        cancel_url(issued_card), {"confirm": "yes", "reason": "test"}, follow=True
    )
    assert status(issued_card) == CardStatus.CANCELLED, messages_of(response)
