"""Issuing a card: every VP answer, and the answers that never come."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from journal.models import JournalEntry
from providers.vp.cards.models import CardStatus, CardStatusChange, IssueMethod, OperatorCard
from providers.vp.cards.services import (
    CardAction,
    CardInputError,
    CardResult,
    card_issue,
    card_resend_issue,
)
from tests.providers.vp_cards.conftest import SLOW, issue_args, make_staff
from tests.providers.vp_cards.fake_vp import FakeVp, closed_port_url
from wallet.models import Player

pytestmark = pytest.mark.django_db

USE = "/v2/items/use"


def history(card: OperatorCard) -> list[tuple[str, str, int | None]]:
    return [
        (h.from_status, h.to_status, h.vp_code)
        for h in CardStatusChange.objects.filter(card=card).order_by("id")
    ]


def test_an_accepted_card_is_issued_with_vp_item_id_and_history(
    fake_vp: FakeVp, alice: Player
) -> None:
    staff = make_staff("issuer", "issue_operatorcard")
    result = card_issue(**issue_args(alice, actor=staff, reason="VIP gift"))
    card = OperatorCard.objects.get(pk=result.card.pk)
    assert result.action is CardAction.ISSUED and result.level == "success"
    assert card.status == CardStatus.ISSUED
    assert card.vp_item_id.endswith("_" + card.spin_id) and len(card.vp_item_id) == 33 + len(
        card.spin_id
    )
    assert card.issued_by == staff and card.issue_reason == "VIP gift"
    assert card.currency == "USD" and card.call_token == "" and card.call_started_at is None
    assert history(card) == [("", "pending", None), ("pending", "issued", 0)]
    assert CardStatusChange.objects.filter(card=card).first().actor == staff  # type: ignore[union-attr]
    at_vp = fake_vp.card(card.spin_id)
    assert at_vp is not None and at_vp.username == "alice"
    sent = fake_vp.calls(USE)[0].payload
    assert sent["gameCode"] == "VP_SLOT_1" and sent["round"] == 10 and sent["cardType"] == 1
    assert sent["itemBetInfo"] == {"itemBet": Decimal("0.5")}
    assert sent["maxWinAmount"] == Decimal("100")
    journal = JournalEntry.objects.get(action="items/use")
    assert journal.direction == "out" and journal.bet_key == card.spin_id
    assert journal.outcome == "ok"


def test_simple_free_spins_use_their_own_call(fake_vp: FakeVp, alice: Player) -> None:
    result = card_issue(
        **issue_args(
            alice,
            method=IssueMethod.SIMPLE_FREE_SPIN,
            card_type=2,
            rounds=50,
            free_spin_multiple=3,
            max_win_amount=None,
        )
    )
    assert result.card.status == CardStatus.ISSUED
    [call] = fake_vp.calls("/v2/items/usesimplefreespin")
    assert call.payload is not None
    assert call.payload["multiple"] == 3 and call.payload["round"] == 50
    assert "cardType" not in call.payload and "maxWinAmount" not in call.payload
    assert fake_vp.calls(USE) == []


@pytest.mark.parametrize("code", [5, 8, 10, 11, 20, 77, 78, 84, 85, 86])
def test_a_refusal_fails_the_card(fake_vp: FakeVp, issue: Callable[..., CardResult], code: int):
    fake_vp.then(USE, code=code)
    result = issue()
    card = OperatorCard.objects.get(pk=result.card.pk)
    assert result.action is CardAction.ISSUE_FAILED and result.vp_code == code
    assert card.status == CardStatus.FAILED and card.last_vp_code == code
    assert f"VP code {code}" in result.message
    assert history(card)[-1] == ("pending", "failed", code)
    assert fake_vp.card(card.spin_id) is None


def test_an_unknown_member_at_vp_fails_the_card(fake_vp: FakeVp) -> None:
    bob = Player.objects.create(account_id="bob")  # not a member at the fake VP
    result = card_issue(**issue_args(bob))
    assert result.card.status == CardStatus.FAILED and result.vp_code == 8


@pytest.mark.parametrize(
    "behaviour",
    [{"delay": SLOW}, {"drop": True}, {"code": 7}],
    ids=["timeout", "dropped", "vp-internal-error"],
)
def test_no_clear_answer_leaves_the_card_pending(
    fake_vp: FakeVp, issue: Callable[..., CardResult], behaviour: dict
) -> None:
    fake_vp.then(USE, **behaviour)
    result = issue()
    card = OperatorCard.objects.get(pk=result.card.pk)
    assert result.action is CardAction.ISSUE_UNCERTAIN and result.level == "warning"
    assert card.status == CardStatus.PENDING
    assert "may or may not exist at VP" in result.message
    assert card.call_token == ""  # nobody is sending it any more: it can be re-sent


def test_resending_a_card_vp_created_despite_the_timeout_finds_it(
    fake_vp: FakeVp, issue: Callable[..., CardResult]
) -> None:
    fake_vp.then(USE, delay=SLOW, apply=True)  # VP created it; the answer was too late
    card = issue().card
    assert card.status == CardStatus.PENDING and fake_vp.card(card.spin_id) is not None
    result = card_resend_issue(card_id=card.pk, actor=None)
    card.refresh_from_db()
    assert result.action is CardAction.ISSUED and card.status == CardStatus.ISSUED
    assert [c.code for c in fake_vp.calls(USE)] == [0, 78]
    assert len(fake_vp.state.cards) == 1  # one card at VP, not two
    assert history(card)[-1] == ("pending", "issued", 78)


def test_resending_a_card_vp_never_got_creates_it(
    fake_vp: FakeVp, issue: Callable[..., CardResult]
) -> None:
    fake_vp.then(USE, drop=True, apply=False)
    card = issue().card
    result = card_resend_issue(card_id=card.pk, actor=None)
    card.refresh_from_db()
    assert result.action is CardAction.ISSUED and card.vp_item_id.endswith(card.spin_id)


def test_only_a_pending_card_can_be_resent(fake_vp: FakeVp, issued_card: OperatorCard) -> None:
    result = card_resend_issue(card_id=issued_card.pk, actor=None)
    assert result.action is CardAction.NOT_ALLOWED
    assert len(fake_vp.calls(USE)) == 1


def test_a_card_being_sent_is_not_resent(fake_vp: FakeVp, issue: Callable[..., CardResult]):
    fake_vp.then(USE, drop=True)
    card = issue().card
    OperatorCard.objects.filter(pk=card.pk).update(
        call_token="someone-else", call_started_at=timezone.now()
    )
    assert card_resend_issue(card_id=card.pk, actor=None).action is CardAction.IN_PROGRESS
    assert len(fake_vp.calls(USE)) == 1


def test_an_unreachable_vp_fails_the_card_nothing_was_sent(
    fake_vp: FakeVp, issue: Callable[..., CardResult], settings
) -> None:
    settings.VP_BASE_URL = closed_port_url()
    result = issue()
    assert result.action is CardAction.ISSUE_FAILED
    assert result.card.status == CardStatus.FAILED and "unreachable" in result.message


def test_a_refused_login_fails_the_card(
    fake_vp: FakeVp, issue: Callable[..., CardResult], settings
) -> None:
    settings.VP_SECRET_KEY = "not-ours"
    result = issue()
    assert result.action is CardAction.ISSUE_FAILED and fake_vp.calls(USE) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rounds": 0}, "at least 1"),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "future"),
        ({"bet_amount": Decimal("-1")}, "positive"),
        ({"method": IssueMethod.SIMPLE_FREE_SPIN, "card_type": 11}, "type 1 or 2"),
        ({"method": IssueMethod.SIMPLE_FREE_SPIN, "rounds": 101}, "at most 100"),
        ({"method": IssueMethod.SIMPLE_FREE_SPIN, "free_spin_multiple": 4}, "1, 2, 3 or 5"),
    ],
)
def test_invalid_cards_are_refused_before_anything_is_sent(
    fake_vp: FakeVp, alice: Player, overrides: dict, message: str
) -> None:
    with pytest.raises(CardInputError, match=message):
        card_issue(**issue_args(alice, **overrides))
    assert not OperatorCard.objects.exists() and fake_vp.calls(USE) == []
