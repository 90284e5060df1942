"""Fixtures for the support back office: staff in each role, bets in every state, journal rows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from journal.models import JournalEntry
from tests.helpers import make_player
from wallet.models import Bet
from wallet.services import bet_open, bet_place_and_settle

User = get_user_model()
PASSWORD = "a-long-staff-password-1"


#: The migrations that make the staff roles and give them their permissions, in their order:
#: the wallet's, then the one that moved the journal's content type (and so its permissions) from
#: ``providers`` to ``journal``.
ROLE_MIGRATIONS = (
    ("wallet", "0003_staff_roles", "forward"),
    ("wallet", "0009_staff_adjustments", "forward"),
    ("wallet", "0010_four_eyes", "forward"),
    ("providers", "0004_journal_moves_to_its_app", "forwards"),
)
ROLE_NAMES = ["Support", "Finance", "Read-only", "Approver"]


@functools.cache
def _state_after(app: str, name: str) -> Any:
    """The models as they were when this migration ran (it names ``providers.journalentry``)."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    return MigrationLoader(connection).project_state((app, name), at_end=True).apps


def ensure_roles() -> None:
    """Re-create the role groups of the migrations if a transactional test flushed them, by
    replaying those migrations on the models of their time."""
    from importlib import import_module

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    if Group.objects.filter(name__in=ROLE_NAMES).count() == len(ROLE_NAMES):
        return
    for app, name, function in ROLE_MIGRATIONS:
        migration = import_module(f"{app}.migrations.{name}")
        schema_editor = SimpleNamespace(connection=connection)
        getattr(migration, function)(_state_after(app, name), schema_editor)
    ContentType.objects.clear_cache()


def staff(username: str, *groups: str, superuser: bool = False) -> Any:
    ensure_roles()
    if superuser:
        return User.objects.create_superuser(username, "", PASSWORD)
    user = User.objects.create_user(username, "", PASSWORD, is_staff=True)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def support_user() -> Any:
    return staff("sam_support", "Support")


@pytest.fixture
def finance_user() -> Any:
    return staff("fay_finance", "Finance")


@pytest.fixture
def readonly_user() -> Any:
    return staff("rae_readonly", "Read-only")


@pytest.fixture
def superuser() -> Any:
    return staff("boss", superuser=True)


@pytest.fixture
def as_user() -> Callable[[Any], Client]:
    """A test client logged in as the given user (CSRF checks on, like a browser)."""

    def _client(user: Any) -> Client:
        client = Client(enforce_csrf_checks=False)
        client.force_login(user)
        return client

    return _client


@pytest.fixture
def alice() -> Any:
    return make_player("alice", "USD", "100")


def open_bet(
    key: str,
    *,
    provider: str = "buffalo",
    amount: str = "10",
    account_id: str = "alice",
    currency: str = "USD",
    age_minutes: float = 0,
) -> Bet:
    result = bet_open(
        provider=provider,
        bet_key=key,
        tx_id=f"tx-{key}",
        account_id=account_id,
        currency=currency,
        amount=Decimal(amount),
        round_id=f"round-{key}",
    )
    assert result.bet is not None, result
    if age_minutes:
        backdate(result.bet, age_minutes)
    return Bet.objects.get(pk=result.bet.pk)


def bet_and_settle(key: str, *, provider: str = "jdb", stake: str = "5", win: str = "7") -> Bet:
    result = bet_place_and_settle(
        provider=provider,
        bet_key=key,
        tx_id=key,
        account_id="alice",
        currency="USD",
        stake=Decimal(stake),
        win=Decimal(win),
    )
    assert result.bet is not None, result
    return Bet.objects.get(pk=result.bet.pk)


def backdate(bet: Bet, minutes: float) -> None:
    Bet.objects.filter(pk=bet.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def journal(
    provider: str,
    bet_key: str,
    *,
    outcome: str = "ok",
    is_cancel: bool = False,
    action: str = "cancel",
    minutes_ago: float = 0,
    **fields: Any,
) -> JournalEntry:
    entry = JournalEntry.objects.create(
        provider=provider,
        action=action,
        request_id=f"req-{JournalEntry.objects.count() + 1}",
        bet_key=bet_key,
        is_cancel=is_cancel,
        outcome=outcome,
        payload={"betId": bet_key},
        answer={"status": outcome},
        **fields,
    )
    if minutes_ago:
        JournalEntry.objects.filter(pk=entry.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes_ago)
        )
        entry.refresh_from_db()
    return entry
