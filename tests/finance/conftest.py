"""A small ledger spread over three UTC days, made through the real wallet services.

Times are pinned by patching ``django.utils.timezone.now`` (what ``auto_now_add`` and the
services read), so each movement lands on a known UTC day and second.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client

from tests.helpers import make_player
from wallet.db.rows import lock_wallet, move_money
from wallet.models import Bet, LedgerKind, Wallet
from wallet.services import (
    SettledRoundPolicy,
    bet_cancel,
    bet_open,
    bet_place_and_settle,
    bet_settle,
    bet_staff_resolve,
)

D = Decimal
DAY1, DAY2, DAY3 = "2026-03-01", "2026-03-02", "2026-03-03"
User = get_user_model()


def utc(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Everything inside happens at ``moment`` as far as Django's clock is concerned."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def body(response: Any) -> bytes:
    """The whole body of a response, streamed or not."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def parse_csv(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8")
    text = text.removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def finance_user(username: str = "fiona", *, allowed: bool = True) -> object:
    """A staff user with (or, like Support, without) the finance permission."""
    user = User.objects.create_user(username, password="pw", is_staff=True)
    perms = ["cancel_bet", "view_bet"] + (["export_reconciliation"] if allowed else [])
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="wallet", codename__in=perms)
    )
    return user


@dataclass
class Book:
    staff: object

    @property
    def ids(self) -> dict[str, int]:
        return {b.bet_key: b.pk for b in Bet.objects.all()}


def staff_adjustment(account_id: str, amount: str, *, staff: object, reason: str) -> None:
    """A staff adjustment row (no service writes this kind yet; the export must show it)."""
    wallet_id = Wallet.objects.get(player__account_id=account_id).pk
    with transaction.atomic():
        move_money(
            lock_wallet(wallet_id),
            D(amount),
            kind=LedgerKind.STAFF_ADJUSTMENT,
            staff_user_id=staff.pk,  # type: ignore[attr-defined]
            reason=reason,
        )


@pytest.fixture
def book(db: None) -> Book:
    """Day 1: deposits, a won debit, a lost bet-and-settle, a bet left open over midnight,
    an open Naga bet. Day 2: that bet cancelled, a VP round reversed, another open Naga bet,
    a bet resolved by staff, a bet with formula-like ids, a staff adjustment.
    Day 3: one settle (the day-1 Naga bet stays open throughout)."""
    staff = User.objects.create_user("@staffer", password="pw", is_staff=True)
    with at(utc(DAY1, "08:00:00")):
        make_player("alice", "USD", "100")
        make_player("bob", "USD", "50")
        make_player("chen", "CNY", "1000")
        make_player("zoë", "USD", "10.5")
    with at(utc(DAY1, "10:00:00.250000")):
        bet_open(
            provider="buffalo",
            bet_key="b1",
            tx_id="d1",
            account_id="alice",
            amount=D("10"),
            round_id="round-1",
            game_code="slot-7",
            currency="USD",
        )
    with at(utc(DAY1, "12:00:00")):
        bet_settle(provider="buffalo", bet_keys=["b1"], tx_id="c1", amount=D("25"))
    with at(utc(DAY1, "13:00:00")):
        bet_place_and_settle(
            provider="jdb",
            bet_key="j1",
            tx_id="j1",
            account_id="alice",
            stake=D("5"),
            win=D("0"),
            currency="USD",
        )
    with at(utc(DAY1, "14:00:00")):
        bet_open(
            provider="naga",
            bet_key="n0",
            tx_id="nt0",
            account_id="alice",
            amount=D("1"),
            currency="USD",
        )
    with at(utc(DAY1, "23:59:59.999999")):
        bet_open(
            provider="buffalo",
            bet_key="b2",
            tx_id="d2",
            account_id="bob",
            amount=D("7.5"),
            currency="USD",
        )
    with at(utc(DAY2, "01:00:00")):
        bet_cancel(
            provider="buffalo", bet_keys=["b2"], tx_id="x2", account_id="bob", amount=D("7.5")
        )
    with at(utc(DAY2, "02:00:00")):
        bet_place_and_settle(
            provider="vp",
            bet_key="v1",
            tx_id="v1",
            account_id="chen",
            stake=D("8"),
            win=D("20"),
            currency="CNY",
        )
    with at(utc(DAY2, "03:00:00")):
        bet_cancel(
            provider="vp", bet_keys=["v1"], tx_id="v1-rb", settled_policy=SettledRoundPolicy.REVERSE
        )
    with at(utc(DAY2, "04:00:00")):
        bet_open(
            provider="naga",
            bet_key="n1",
            tx_id="nt1",
            account_id="alice",
            amount=D("3.333333"),
            currency="USD",
        )
    with at(utc(DAY2, "05:00:00")):
        bet_open(
            provider="buffalo",
            bet_key="=1+2",
            tx_id="-cmd",
            account_id="zoë",
            amount=D("2"),
            round_id="@round",
            currency="USD",
        )
    with at(utc(DAY2, "06:00:00")):
        bet_staff_resolve(
            bet_id=Bet.objects.get(bet_key="=1+2").pk,
            actor=staff,
            reason='=HYPERLINK("http://x")',
            win_amount=D("1"),
        )
    with at(utc(DAY2, "07:00:00")):
        staff_adjustment("bob", "-1.25", staff=staff, reason="goodwill correction ✓")
    with at(utc(DAY3, "09:00:00")):
        bet_open(
            provider="buffalo",
            bet_key="b3",
            tx_id="d3",
            account_id="alice",
            amount=D("4"),
            currency="USD",
        )
    with at(utc(DAY3, "10:00:00")):
        bet_settle(provider="buffalo", bet_keys=["b3"], tx_id="c3", amount=D("0"))
    return Book(staff)


@pytest.fixture
def finance_client(client: Client, db: None) -> Client:
    client.force_login(finance_user())  # type: ignore[arg-type]
    return client


@pytest.fixture
def get_csv(finance_client: Client) -> Callable[..., list[dict[str, str]]]:
    """GET a finance CSV from the admin and parse it."""

    def _get(url: str, **params: str) -> list[dict[str, str]]:
        response = finance_client.get(url, {"download": "csv", "bom": "on", **params})
        assert response.status_code == 200, response.content[:500]
        return parse_csv(body(response))

    return _get
