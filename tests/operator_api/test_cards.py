"""Operator cards through the API: the admin's checks against VP's templates, and VP's answers,
against a fake VP server on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from providers.vp.cards.models import OperatorCard
from tests.operator_api.conftest import call
from tests.providers.vp_cards.conftest import alice, fake_vp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def card_body(**changes):
    body = {
        "account_id": "alice",
        "game_code": "VP_SLOT_1",
        "card_type": 1,
        "rounds": 10,
        "bet_amount": "0.5",
        "max_win_amount": "100",
        "expires_at": (timezone.now() + timedelta(days=7)).isoformat(),
        "reason": "welcome bonus",
    }
    body.update(changes)
    return body


def test_issue_list_and_cancel_a_card(keys, fake_vp, alice):  # noqa: F811
    body = card_body()
    issued = call(
        "POST", "/api/v1/operator-cards/", key=keys["support"], body=body, idempotency_key="card-1"
    )
    assert issued.status == 201, issued.data
    assert issued.data["action"] == "issued"
    card = issued.data["card"]
    assert (card["status"], card["bet_amount"], card["account_id"]) == ("issued", "0.50", "alice")
    assert fake_vp.card(card["spin_id"]) is not None
    replay = call(
        "POST",
        "/api/v1/operator-cards/",
        key=keys["support"],
        body=body,
        idempotency_key="card-1",
    )
    assert replay.data["card"]["id"] == card["id"], replay.data
    assert OperatorCard.objects.count() == 1  # the retry sent nothing to VP

    listed = call("GET", "/api/v1/operator-cards/?account_id=alice", key=keys["read-only"])
    assert [row["spin_id"] for row in listed.data["results"]] == [card["spin_id"]]

    path = f"/api/v1/operator-cards/{card['id']}/cancel/"
    assert call("POST", path, key=keys["support"], body={}).status == 400  # a reason is required
    cancelled = call("POST", path, key=keys["support"], body={"reason": "issued by mistake"})
    assert cancelled.status == 200, cancelled.data
    assert cancelled.data["card"]["status"] == "cancelled"
    again = call("POST", path, key=keys["support"], body={"reason": "twice"})
    assert again.data["action"] == "already_cancelled"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rounds": 7}, "rounds"),  # VP offers 10 rounds for this card
        ({"bet_amount": "0.3"}, "bet_amount"),  # not in the game's bet list
        ({"bet_amount": "0.555"}, "bet_amount"),  # more decimals than USD
        ({"game_code": "NO_SUCH_GAME"}, "game_code"),
        ({"account_id": "nobody"}, "account_id"),
        ({"max_win_amount": 100}, "max_win_amount"),  # a JSON number
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_card_refusals_name_the_field_and_send_nothing(keys, fake_vp, alice, changes, field):  # noqa: F811
    reply = call("POST", "/api/v1/operator-cards/", key=keys["support"], body=card_body(**changes))
    assert reply.status == 400, reply.data
    assert field in reply.data, reply.data
    assert not OperatorCard.objects.exists()
    assert fake_vp.calls("/v2/items/use") == []
