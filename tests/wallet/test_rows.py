"""Instances built from rows of hand-written SQL (``model_from_row``) are the ORM's own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_init

from tests.helpers import make_player
from wallet.db.rows import field_value, model_from_row, select_list, with_player_from_row
from wallet.models import Bet, LedgerEntry, Player
from wallet.services import bet_open
from wallet.services.outcomes import Outcome

pytestmark = pytest.mark.django_db


def field_values(instance: Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def alices_bet(key: str, stake: str) -> None:
    make_player("alice", "USD", "100")
    result = bet_open(
        provider="buffalo",
        bet_key=key,
        tx_id=f"tx-{key}",
        account_id="alice",
        currency="USD",
        amount=Decimal(stake),
        round_id="r1",
    )
    assert result.outcome == Outcome.OK, result


def stored_bet() -> Bet:
    alices_bet("row-1", "12.50")
    bet = Bet.objects.get(bet_key="row-1")
    bet.details = {"note": "x'y", "amounts": ["1.50"]}  # a JSON value the row must convert
    bet.save(update_fields=["details"])
    return Bet.objects.get(pk=bet.pk)


def bet_row(bet: Bet) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select_list(Bet, 'x')}, {select_list(Player, 'p')}, 7 FROM wallet_bet x "
            "JOIN wallet_player p ON p.id = x.player_id WHERE x.id = %s",
            [bet.pk],
        )
        row = cursor.fetchone()
    assert row is not None
    return row


def test_a_row_becomes_the_instance_the_orm_loads() -> None:
    orm = stored_bet()
    built = model_from_row(Bet, bet_row(orm))  # extra columns after the bet's are ignored
    assert type(built) is Bet
    assert field_values(built) == field_values(orm)
    assert built.details == {"note": "x'y", "amounts": ["1.50"]}
    assert (built._state.adding, built._state.db) == (False, "default")
    assert built.player.account_id == "alice"  # the relation loads as on any instance
    built.review_reason = "checked"
    built.save(update_fields=["review_reason"])  # an UPDATE, not an INSERT of a new row
    assert Bet.objects.get(pk=orm.pk).review_reason == "checked"
    assert Bet.objects.count() == 1


def test_a_row_with_its_player_fills_the_relation() -> None:
    orm = stored_bet()
    with_player = with_player_from_row(Bet, bet_row(orm))
    assert field_values(with_player.player) == field_values(Player.objects.get(pk=orm.player_id))
    assert Bet.player.is_cached(with_player)  # no query to reach the player


def test_instances_still_go_through_init_for_whoever_listens_to_post_init() -> None:
    row = bet_row(stored_bet())
    seen: list[Model] = []

    def receiver(sender: type[Model], instance: Model, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Bet)
    try:
        built = model_from_row(Bet, row)
    finally:
        post_init.disconnect(receiver, sender=Bet)
    assert seen == [built] and seen[0] is built


def test_one_column_read_by_hand_converts_as_the_orm_does() -> None:
    """SQLite hands a decimal back as a float (0.1 is not 0.1 there): the ORM converts it."""
    alices_bet("row-2", "0.1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT amount FROM wallet_ledgerentry WHERE provider_tx_id = 'tx-row-2'")
        (raw,) = cursor.fetchone()
    value = field_value(LedgerEntry, "amount", raw)
    assert isinstance(value, Decimal) and value == Decimal("-0.1")
