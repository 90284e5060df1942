"""Fixtures for the operator-card tests: a running fake VP, staff with and without rights."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from providers.vp.cards.models import OperatorCard
from providers.vp.cards.services import CardResult, card_issue
from tests.conftest import TEST_PROVIDER_SETTINGS
from tests.helpers import make_player
from tests.providers.vp_cards.fake_vp import FakeVp
from wallet.models import Player

#: Short enough that a scripted slow answer times out quickly; long enough for a busy CI box.
READ_TIMEOUT = 0.6
SLOW = 1.5  # a scripted delay that is surely past READ_TIMEOUT


@pytest.fixture
def fake_vp(settings: Any) -> Iterator[FakeVp]:
    server = FakeVp(
        agent_id=TEST_PROVIDER_SETTINGS["VP_AGENT_ID"],  # type: ignore[arg-type]
        api_key_hex=TEST_PROVIDER_SETTINGS["VP_API_KEY"],  # type: ignore[arg-type]
        secret=TEST_PROVIDER_SETTINGS["VP_SECRET_KEY"],  # type: ignore[arg-type]
    ).start()
    settings.VP_BASE_URL = server.url
    settings.VP_CONNECT_TIMEOUT = 0.5
    settings.VP_READ_TIMEOUT = READ_TIMEOUT
    yield server
    server.stop()


@pytest.fixture
def alice(fake_vp: FakeVp) -> Player:
    fake_vp.add_member("alice")
    return make_player("alice", "USD", "100")


def make_staff(username: str, *perms: str, superuser: bool = False) -> Any:
    user_model = get_user_model()
    if superuser:
        return user_model.objects.create_superuser(username, "", "pw-" + username)
    user = user_model.objects.create_user(username, "", "pw-" + username, is_staff=True)
    for codename in ("view_operatorcard", *perms):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def support() -> Any:
    """Staff who may issue and cancel cards."""
    return make_staff("support", "issue_operatorcard", "cancel_operatorcard")


@pytest.fixture
def viewer() -> Any:
    """Staff who may only look at cards."""
    return make_staff("viewer")


def issue_args(player: Player, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "player": player,
        "game_code": "VP_SLOT_1",
        "card_type": 1,
        "rounds": 10,
        "bet_amount": Decimal("0.5"),
        "max_win_amount": Decimal("100"),
        "expires_at": timezone.now() + timedelta(days=7),
        "actor": None,
        "reason": "welcome bonus",
    }
    args.update(overrides)
    return args


@pytest.fixture
def issue(alice: Player) -> Callable[..., CardResult]:
    def _issue(**overrides: Any) -> CardResult:
        player = overrides.pop("player", alice)
        return card_issue(**issue_args(player, **overrides))

    return _issue


@pytest.fixture
def issued_card(issue: Callable[..., CardResult]) -> OperatorCard:
    result = issue()
    assert result.card.status == "issued", result.message
    return result.card
