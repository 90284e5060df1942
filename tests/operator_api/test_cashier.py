"""Players, deposits and withdrawals through the API: money checked, not just statuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, make_player
from tests.operator_api.conftest import call
from wallet.models import LedgerEntry, LedgerKind, Player

pytestmark = pytest.mark.django_db


def deposit(key: str, body: dict, idem: str | None = "dep-1", account: str = "alice"):
    return call(
        "POST", f"/api/v1/players/{account}/deposits/", key=key, body=body, idempotency_key=idem
    )


def test_create_player_with_opening_balance_then_409_for_the_same_id(keys):
    body = {"account_id": "neo", "currency": "eur", "opening_balance": "25,50"}
    first = call("POST", "/api/v1/players/", key=keys["platform"], body=body)
    assert first.status == 201
    assert first.data["wallets"] == [
        {
            "currency": "EUR",
            "balance": "25.50",
            "updated_at": first.data["wallets"][0]["updated_at"],
        }
    ]
    again = call("POST", "/api/v1/players/", key=keys["platform"], body=body)
    assert again.status == 409
    assert "exists already" in again.data["detail"]
    assert balance("neo", "EUR") == Decimal("25.50")  # the second call deposited nothing
    opening = LedgerEntry.objects.get(wallet__player__account_id="neo")
    assert opening.staff_user.username == "api-test-platform"


def test_get_player_shows_each_wallet_balance(keys):
    make_player("alice", balance="12.5")
    reply = call("GET", "/api/v1/players/alice/", key=keys["read-only"])
    assert reply.status == 200
    assert [(w["currency"], w["balance"]) for w in reply.data["wallets"]] == [("USD", "12.50")]
    assert call("GET", "/api/v1/players/nobody/", key=keys["read-only"]).status == 404


def test_deposit_moves_money_once_and_a_retry_replays_the_answer(keys):
    make_player("alice", balance="10")
    body = {"currency": "USD", "amount": "5.25", "reference": "cashier-991"}
    first = deposit(keys["platform"], body)
    assert first.status == 201
    assert first.data["balance"] == "15.25"
    assert first.data["entry"]["reason"] == "cashier-991"
    again = deposit(keys["platform"], body)
    assert again.status == 201
    assert again.data == first.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert balance("alice") == Decimal("15.25")
    assert LedgerEntry.objects.filter(kind=LedgerKind.DEPOSIT).count() == 2  # opening + one


def test_the_same_key_with_another_body_is_refused_and_moves_nothing(keys):
    make_player("alice", balance="10")
    assert deposit(keys["platform"], {"currency": "USD", "amount": "5"}).status == 201
    other = deposit(keys["platform"], {"currency": "USD", "amount": "50"})
    assert other.status == 409
    assert "another body" in other.data["detail"]
    assert balance("alice") == Decimal("15")


def test_keys_are_per_caller(keys):
    """Two clients may pick the same key string; each gets its own answer."""
    make_player("alice", balance="10")
    assert deposit(keys["platform"], {"currency": "USD", "amount": "1"}).status == 201
    from operator_api.keys import create_api_key
    from operator_api.models import ApiRole

    _, other = create_api_key(name="second cashier", role=ApiRole.PLATFORM)
    assert deposit(other, {"currency": "USD", "amount": "1"}).status == 201
    assert balance("alice") == Decimal("12")


def test_deposit_without_idempotency_key_is_refused(keys):
    make_player("alice", balance="10")
    reply = deposit(keys["platform"], {"currency": "USD", "amount": "5"}, idem=None)
    assert reply.status == 400
    assert "Idempotency-Key" in reply.data
    assert balance("alice") == Decimal("10")


def test_withdrawal_beyond_the_balance_is_409_and_moves_nothing(keys):
    make_player("alice", balance="10")
    reply = call(
        "POST",
        "/api/v1/players/alice/withdrawals/",
        key=keys["platform"],
        body={"currency": "USD", "amount": "10.01"},
        idempotency_key="w-1",
    )
    assert reply.status == 409
    assert reply.data["detail"] == (
        "The balance is 10.00 USD, less than the 10.01 USD asked for. Nothing was withdrawn."
    )
    assert balance("alice") == Decimal("10")
    ok = call(
        "POST",
        "/api/v1/players/alice/withdrawals/",
        key=keys["platform"],
        body={"currency": "USD", "amount": "10"},
        idempotency_key="w-2",
    )
    assert ok.status == 201
    assert ok.data["entry"]["kind"] == "withdrawal"
    assert ok.data["entry"]["amount"] == "-10.00"
    assert balance("alice") == Decimal("0")


BAD_BODIES = [
    ({"currency": "USD"}, "amount"),
    ({"amount": "5"}, "currency"),
    ({"currency": "USD", "amount": 5}, "amount"),  # a JSON number
    ({"currency": "USD", "amount": 5.5}, "amount"),
    ({"currency": "USD", "amount": True}, "amount"),
    ({"currency": "USD", "amount": None}, "amount"),
    ({"currency": "USD", "amount": ["5"]}, "amount"),
    ({"currency": "USD", "amount": "-5"}, "amount"),
    ({"currency": "USD", "amount": "0"}, "amount"),
    ({"currency": "USD", "amount": "1.1234567"}, "amount"),  # 7 decimals
    ({"currency": "USD", "amount": "1.234"}, "amount"),  # more than USD's 2
    ({"currency": "USD", "amount": "1e3"}, "amount"),
    ({"currency": "USD", "amount": "NaN"}, "amount"),
    ({"currency": "USD", "amount": "Infinity"}, "amount"),
    ({"currency": "USD", "amount": "1,000.00"}, "amount"),
    ({"currency": "USD", "amount": " "}, "amount"),
    ({"currency": "USD", "amount": "9" * 30}, "amount"),
    ({"currency": "EUR", "amount": "5"}, "currency"),  # no EUR wallet
    ({"currency": "US", "amount": "5"}, "currency"),
    ({"currency": 840, "amount": "5"}, "currency"),
    ({"currency": "USD", "amount": "5", "amout": "50"}, "amout"),  # unknown field
    ({"currency": "USD", "amount": "5", "reference": "x" * 201}, "reference"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_deposits_get_field_errors_and_move_nothing(keys, body, field):
    make_player("alice", balance="10")
    reply = deposit(keys["platform"], body, idem="bad")
    assert reply.status == 400, reply.data
    assert field in reply.data, reply.data
    assert balance("alice") == Decimal("10")
    # The refused request kept nothing under its key: the same key works for a good body.
    assert deposit(keys["platform"], {"currency": "USD", "amount": "1"}, idem="bad").status == 201


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"currency": "USD", "amount": NaN}',
        b"[1, 2]",
        b'"5"',
        b"",
        b'{"currency": "USD", "amount": "5", "reference": "%s"}' % (b"x" * 1_000_000),
    ],
    ids=["broken", "nan-literal", "list", "string", "empty", "1MB"],
)
def test_unreadable_bodies_are_400_never_500(keys, raw):
    make_player("alice", balance="10")
    reply = call(
        "POST",
        "/api/v1/players/alice/deposits/",
        key=keys["platform"],
        raw=raw,
        idempotency_key="raw",
    )
    assert reply.status == 400, reply.content[:200]
    assert reply.data is not None  # JSON, not an HTML page
    assert balance("alice") == Decimal("10")


def test_player_create_refuses_bad_input(keys):
    bad = [
        {"account_id": "", "currency": "USD"},
        {"account_id": "has space", "currency": "USD"},
        {"account_id": "x" * 65, "currency": "USD"},
        {"account_id": "ok", "currency": "USD", "opening_balance": "-1"},
        {"account_id": "ok", "currency": "JPY", "opening_balance": "1.5"},
        {"account_id": "ok", "currency": "USD", "opening_balance": 10},
        {"account_id": "ok", "currency": "USD", "status": "blocked"},
    ]
    for body in bad:
        reply = call("POST", "/api/v1/players/", key=keys["platform"], body=body)
        assert reply.status == 400, (body, reply.data)
    assert not Player.objects.exists()


def test_ledger_is_newest_first_and_cursor_paginated(keys):
    make_player("alice", balance="1")
    for number in range(5):
        assert (
            deposit(keys["platform"], {"currency": "USD", "amount": "1"}, f"d{number}").status
            == 201
        )
    page = call("GET", "/api/v1/players/alice/ledger/?page_size=2", key=keys["platform"])
    assert page.status == 200
    assert [row["balance_after"] for row in page.data["results"]] == ["6.00", "5.00"]
    seen = [row["id"] for row in page.data["results"]]
    while page.data["next"]:
        page = call("GET", page.data["next"], key=keys["platform"])
        seen += [row["id"] for row in page.data["results"]]
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == 6
    assert (
        call("GET", "/api/v1/players/alice/ledger/?currency=EUR", key=keys["platform"]).status
        == 400
    )
    assert (
        call("GET", "/api/v1/players/alice/ledger/?since=yesterday", key=keys["platform"]).status
        == 400
    )


def test_balance_at_an_instant_from_the_ledger(keys):
    from datetime import UTC, datetime, timedelta

    from tests.wallet.test_balances import insert_rows
    from wallet.models import Wallet

    player = Player.objects.create(account_id="bea")
    usd = Wallet.objects.create(player=player, currency="USD")
    Wallet.objects.create(player=player, currency="EUR")
    t = datetime(2026, 11, 30, 23, 59, 59, 500_000, tzinfo=UTC)
    insert_rows(
        usd,
        [
            (t, Decimal("12.5"), Decimal("12.5")),
            (t + timedelta(seconds=1), Decimal(1), Decimal("13.5")),
        ],
    )
    reply = call(
        "GET", "/api/v1/players/bea/balance/?at=2026-11-30T23:59:59.5Z", key=keys["read-only"]
    )
    assert reply.status == 200, reply.data
    assert [
        (w["currency"], w["balance"], w["entry_id"] is not None) for w in reply.data["wallets"]
    ] == [
        ("EUR", "0.00", False),
        ("USD", "12.50", True),
    ]
    earlier = call(
        "GET",
        "/api/v1/players/bea/balance/?at=2026-11-30T23:59:59Z&currency=USD",
        key=keys["platform"],
    )
    assert [w["balance"] for w in earlier.data["wallets"]] == ["0.00"]
    assert call("GET", "/api/v1/players/bea/balance/", key=keys["finance"]).status == 400
    bad = call("GET", "/api/v1/players/bea/balance/?at=yesterday", key=keys["finance"])
    assert bad.status == 400 and "at" in bad.data
