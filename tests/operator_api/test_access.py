"""Every endpoint x every role, and no key, a revoked key, an expired key: the status expected,
and the money where it could move."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from operator_api.keys import create_api_key, revoke_api_key
from operator_api.models import ApiRole, OperatorApiKey
from tests.admin.conftest import open_bet
from tests.helpers import balance, make_player
from tests.operator_api.conftest import ROLES, call
from wallet.models import LedgerEntry, PlayerSession

pytestmark = pytest.mark.django_db

ALL = frozenset(ROLES)
STAFF = frozenset({"support", "finance", "read-only"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: frozenset[str]
    body: dict[str, Any] | None = None
    ok: int = 200
    moves_money: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def endpoints(bet_id: int, token: str) -> list[Endpoint]:
    today = timezone.now().date().isoformat()
    return [
        Endpoint(
            "POST",
            "/api/v1/players/",
            frozenset({"platform"}),
            {"account_id": "new-player", "currency": "USD"},
            201,
        ),
        Endpoint("GET", "/api/v1/players/alice/", ALL),
        Endpoint(
            "POST",
            "/api/v1/players/alice/deposits/",
            frozenset({"platform"}),
            {"currency": "USD", "amount": "1"},
            201,
            moves_money=True,
        ),
        Endpoint(
            "POST",
            "/api/v1/players/alice/withdrawals/",
            frozenset({"platform"}),
            {"currency": "USD", "amount": "1"},
            201,
            moves_money=True,
        ),
        Endpoint("GET", "/api/v1/players/alice/ledger/", ALL),
        Endpoint(
            "POST",
            "/api/v1/sessions/",
            frozenset({"platform"}),
            {"account_id": "alice", "provider": "naga"},
            201,
        ),
        Endpoint("DELETE", f"/api/v1/sessions/{token}/", frozenset({"platform"}), ok=204),
        Endpoint("GET", "/api/v1/bets/", STAFF),
        Endpoint("GET", f"/api/v1/bets/{bet_id}/", STAFF),
        Endpoint(
            "POST",
            f"/api/v1/bets/{bet_id}/review/",
            frozenset({"support"}),
            {"reason": "looked at it"},
            409,
        ),  # not flagged: refused for good
        Endpoint(
            "POST",
            f"/api/v1/bets/{bet_id}/resolve/",
            frozenset({"support"}),
            {"reason": "provider says lost", "win_amount": "0"},
            200,
            moves_money=True,
        ),
        Endpoint(
            "POST",
            f"/api/v1/bets/{bet_id}/cancel/",
            frozenset({"support"}),
            {"reason": "stuck"},
            409,
        ),  # resolved just before: refused, nothing moves
        Endpoint("GET", "/api/v1/journal/", STAFF),
        Endpoint("GET", "/api/v1/operator-cards/", STAFF),
        Endpoint(
            "POST",
            "/api/v1/operator-cards/999999/cancel/",
            frozenset({"support"}),
            {"reason": "x"},
            404,
        ),
        Endpoint(
            "GET", f"/api/v1/reconciliation/transactions/?day={today}", frozenset({"finance"})
        ),
        Endpoint(
            "GET",
            f"/api/v1/reconciliation/transactions/?day={today}&format=csv",
            frozenset({"finance"}),
        ),
        Endpoint("GET", f"/api/v1/reconciliation/summary/?day={today}", frozenset({"finance"})),
        Endpoint("GET", "/api/v1/schema/", ALL),
    ]


def _money() -> tuple[Decimal, int]:
    return balance("alice"), LedgerEntry.objects.count()


def test_every_endpoint_for_every_role(keys):
    make_player("alice", balance="100")
    bet = open_bet("matrix-1", amount="10")
    token = "matrix-token"
    from wallet.services import session_create

    session = session_create(account_id="alice", provider="naga")
    PlayerSession.objects.filter(pk=session.pk).update(token=token)

    for number, endpoint in enumerate(endpoints(bet.pk, token)):
        for role in ROLES:
            if role in endpoint.allowed:
                continue
            before = _money()
            reply = call(
                endpoint.method,
                endpoint.path,
                key=keys[role],
                body=endpoint.body,
                idempotency_key=f"refused-{number}-{role}",
            )
            assert reply.status == 403, (endpoint, role, reply.data)
            assert "needs the permission" in reply.data["detail"]
            assert _money() == before
        for role in sorted(endpoint.allowed):
            before = _money()
            reply = call(
                endpoint.method,
                endpoint.path,
                key=keys[role],
                body=endpoint.body,
                idempotency_key=f"allowed-{number}-{role}",
            )
            assert reply.status == endpoint.ok, (endpoint, role, reply.data)
            if not endpoint.moves_money:
                assert _money()[1] == before[1], endpoint
            break  # one allowed role performs it; the others are checked for 403 above
    assert balance("alice") == Decimal("90")  # +1 deposit -1 withdrawal, stake 10 lost


@pytest.mark.parametrize("how", ["none", "garbage", "revoked", "expired", "wrong-scheme"])
def test_callers_without_a_live_key_get_401_and_move_nothing(keys, how):
    make_player("alice", balance="100")
    key, secret = create_api_key(name="cashier-b", role=ApiRole.PLATFORM)
    if how == "revoked":
        revoke_api_key(key)
    if how == "expired":
        OperatorApiKey.objects.filter(pk=key.pk).update(
            expiry_date=timezone.now() - timedelta(seconds=1)
        )
    headers = {}
    if how == "garbage":
        headers["Authorization"] = "Api-Key nope.nope"
    elif how == "wrong-scheme":
        headers["Authorization"] = f"Bearer {secret}"
    elif how != "none":
        headers["Authorization"] = f"Api-Key {secret}"
    reply = call(
        "POST",
        "/api/v1/players/alice/deposits/",
        body={"currency": "USD", "amount": "5"},
        idempotency_key="k",
        **headers,
    )
    assert reply.status == 401, reply.data
    assert reply.headers["WWW-Authenticate"] == "Api-Key"
    assert balance("alice") == Decimal("100")
    if how == "expired":
        assert "expired" in reply.data["detail"]


def test_api_key_create_prints_the_key_alone_on_its_last_line(db):
    from io import StringIO

    from django.core.management import call_command

    from tests.operator_api.conftest import ensure_api_roles

    ensure_api_roles()
    out = StringIO()
    call_command(
        "api_key_create", "BI tool", "--role", "read-only", "--expires-days", "30", stdout=out
    )
    secret = out.getvalue().strip().splitlines()[-1]
    stored = OperatorApiKey.objects.get()
    assert stored.role == "read-only"
    assert secret not in stored.hashed_key and secret.split(".")[0] == stored.prefix
    assert stored.expiry_date is not None
    assert stored.expiry_date - timezone.now() > timedelta(days=29)
    make_player("alice", balance="1")
    assert call("GET", "/api/v1/players/alice/", key=secret).status == 200
    assert (
        call(
            "POST",
            "/api/v1/players/alice/deposits/",
            key=secret,
            body={"currency": "USD", "amount": "1"},
            idempotency_key="x",
        ).status
        == 403
    )


def test_a_superuser_revokes_a_key_in_the_admin_and_it_stops_working(keys):
    from django.test import Client

    from tests.admin.conftest import staff

    make_player("alice", balance="1")
    key = OperatorApiKey.objects.get(role="read-only")
    boss = Client()
    boss.force_login(staff("boss", superuser=True))
    listing = boss.get("/admin/operator_api/operatorapikey/")
    assert listing.status_code == 200
    assert key.prefix in listing.content.decode()
    assert boss.get("/admin/operator_api/operatorapikey/add/").status_code == 403
    done = boss.post(
        "/admin/operator_api/operatorapikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert done.status_code == 302
    key.refresh_from_db()
    assert key.revoked and key.revoked_at is not None
    assert call("GET", "/api/v1/players/alice/", key=keys["read-only"]).status == 401
    assert call("GET", "/api/v1/players/alice/", key=keys["finance"]).status == 200

    support = Client()
    support.force_login(staff("sam", "Support"))
    assert support.get("/admin/operator_api/operatorapikey/").status_code == 403
