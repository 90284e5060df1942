"""Staff calling the API from the browser go through the same two-factor sign-in; machines with
keys are not asked for one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.admin.conftest import open_bet, staff
from tests.helpers import balance, make_player
from tests.operator_api.conftest import call
from tests.second_factor_kit import give_second_factor, password_only, signed_in
from wallet.models import BetState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def required(settings):
    settings.STAFF_2FA_REQUIRED = True


def test_a_password_only_session_reaches_no_api_endpoint(keys):
    make_player("alice", balance="100")
    bet = open_bet("2fa-1", amount="10")
    phone = give_second_factor(staff("sam_support", "Support"))
    client = password_only("sam_support")
    for method, path in [
        ("GET", "/api/v1/bets/"),
        ("GET", f"/api/v1/bets/{bet.pk}/"),
        ("POST", f"/api/v1/bets/{bet.pk}/cancel/"),
        ("GET", "/api/v1/schema/"),
        ("GET", "/api/v1/players/alice/"),
    ]:
        reply = call(
            method, path, body={"reason": "x"} if method == "POST" else None, client=client
        )
        assert reply.status == 403, (path, reply.status)
        assert "Sign-in is not finished" in reply.data["detail"]
    assert balance("alice") == Decimal("90")

    finished = signed_in("sam_support", phone)
    assert call("GET", f"/api/v1/bets/{bet.pk}/", client=finished).status == 200
    # Machines present keys, not sessions: the setting does not concern them.
    cancelled = call(
        "POST", f"/api/v1/bets/{bet.pk}/cancel/", key=keys["support"], body={"reason": "void"}
    )
    assert cancelled.status == 200
    assert cancelled.data["bet"]["state"] == BetState.CANCELLED
