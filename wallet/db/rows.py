"""Row helpers the money services share: bet row locks, wallet moves, bet inserts and updates,
and models built from rows without the ORM.

Lock order is always bet rows (sorted by key), then the wallet row. Lock waits are bounded by
PostgreSQL's ``lock_timeout`` (set on the connection, see settings) and by SQLite's busy timeout.

The hot statements are written so that a cancel costs few round trips: a bet is locked together
with its owner's account id, and a wallet move is one statement (the wallet UPDATE, which takes
the row lock and returns the new balance, and the ledger INSERT, chained on PostgreSQL). Table
names come from the models' ``_meta``; only values are parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db import (
    DEFAULT_DB_ALIAS,
    DataError,
    connection,
    connections,
)
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from monitoring.metrics import count_money_moved
from wallet.db import hot_sql
from wallet.models import Bet, LedgerEntry, LedgerKind, Player, Wallet
from wallet.money import MAX_AMOUNT

M = TypeVar("M", bound=Model)


class BalanceLimitExceeded(Exception):
    """A credit would take a balance, or a bet's win, past what its column holds."""

    def __init__(self, wallet: Wallet) -> None:
        super().__init__(
            f"the balance would go past the largest balance a wallet can hold ({MAX_AMOUNT})"
        )
        self.wallet_id = wallet.pk
        self.currency = wallet.currency


_NUMERIC_VALUE_OUT_OF_RANGE = "22003"  # PostgreSQL's SQLSTATE


def lock_bets(provider: str, bet_keys: Iterable[str]) -> dict[str, Bet]:
    """Lock the existing bets with these keys, one by one in Python's key order.

    Every service locks several bets in this same order (``sorted``), never in the database's
    collation order, which can differ (``"a-b"`` and ``"ab"``) and would let two requests over
    the same bets deadlock. Several bets in one call are rare (JDB settles and cancels).
    """
    locked: dict[str, Bet] = {}
    for key in sorted(set(bet_keys)):
        row = hot_sql.fetch_one(
            _lock_row_sql(Bet, connection.vendor, "provider", "bet_key"), [provider, key]
        )
        if row is not None:
            locked[key] = model_from_row(Bet, row)
    return locked


@functools.cache
def _lock_row_sql(model: type[Model], vendor: str, *equal_to_parameters: str) -> str:
    """The SELECT … FOR UPDATE of one row of ``model`` (alias ``x``) where each named column
    equals a parameter, built once from the model (the ORM would compile it on every call)."""
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    conditions = " AND ".join(f"x.{quote(column)} = %s" for column in equal_to_parameters)
    # Only model metadata (quoted column names) is interpolated; values are parameters.
    return (
        f"SELECT {select_list(model, 'x')} FROM {quote(model._meta.db_table)} x "  # noqa: S608
        f"WHERE {conditions}{lock}"
    )


def lock_bet_with_owner(provider: str, bet_key: str) -> tuple[Bet, str | None] | None:
    """Lock one bet and read its owner's account id in the same statement (or None).

    Saves a cancel the separate player lookup when the caller names the bet's own player. The
    statement is built once from the model (it runs on every cancel; the ORM would compile it
    anew each time, which costs more than the database takes to run it).
    """
    row = hot_sql.fetch_one(_lock_with_owner_sql(connection.vendor), [provider, bet_key])
    if row is None:
        return None
    return model_from_row(Bet, row), row[-1]


@dataclass(frozen=True, slots=True)
class _RowLayout:
    """How a row of a model's concrete columns becomes an instance: the attribute names in
    column order, and the columns whose values the ORM converts (index, column, converters)."""

    attnames: list[str]
    converted: tuple[tuple[int, Any, tuple[Any, ...]], ...]


@functools.cache
def _row_layout(model: type[Model], vendor: str) -> _RowLayout:
    attnames, converted = [], []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        attnames.append(field.attname)
        if converters:  # on PostgreSQL only the JSON fields: the rest arrive as Python values
            converted.append((index, column, tuple(converters)))
    return _RowLayout(attnames, tuple(converted))


def model_from_row(model: type[M], row: Sequence[Any], start: int = 0) -> M:
    """The instance the ORM would build from ``row[start:]``: every concrete column of
    ``model`` in model order (``select_list``), as a query built by hand returns it."""
    # Django's connection object itself, not the proxy: each use of the proxy looks it up again.
    wrapper = connections[DEFAULT_DB_ALIAS]
    layout = _row_layout(model, wrapper.vendor)
    values = list(row[start : start + len(layout.attnames)])
    for index, column, converters in layout.converted:
        values[index] = _converted(values[index], column, converters, wrapper)
    if pre_init.receivers or post_init.receivers:  # someone watches instances being made
        return model.from_db(wrapper.alias, layout.attnames, values)
    return _loaded(model, layout.attnames, values, wrapper.alias)


def _loaded(model: type[M], attnames: list[str], values: list[Any], alias: str) -> M:
    """What ``model.from_db`` returns for a full row, without ``Model.__init__``.

    For a full row ``__init__`` only sends ``pre_init`` and ``post_init`` (checked above: no
    receivers) and sets each attribute on a new instance, which for a new instance comes down to
    filling its ``__dict__`` (the foreign-key descriptors' ``__set__`` would also clear a cached
    related object, of which a new instance has none), so skipping it loses nothing and saves
    the signal machinery on every row of the hot path.
    """
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = alias
    return instance


def field_value(model: type[Model], name: str, value: Any) -> Any:
    """One column's value as the ORM returns it (on SQLite, a decimal arrives as a float)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    layout = _row_layout(model, wrapper.vendor)
    index = next(i for i, f in enumerate(model._meta.concrete_fields) if f.name == name)
    for converted_index, column, converters in layout.converted:
        if converted_index == index:
            return _converted(value, column, converters, wrapper)
    return value


def _converted(value: Any, column: Any, converters: tuple[Any, ...], wrapper: Any) -> Any:
    for convert in converters:
        value = convert(value, column, wrapper)
    return value


def db_values(instance: Model, fields: Iterable[Field[Any, Any]], *, add: bool) -> list[Any]:
    """The fields' values as the ORM would write them (``pre_save``, ``get_db_prep_save``)."""
    # Django's connection object itself, not the proxy: each field asks it for its operations,
    # a thread-local lookup per field through the proxy.
    wrapper = connections[DEFAULT_DB_ALIAS]
    return [f.get_db_prep_save(f.pre_save(instance, add=add), wrapper) for f in fields]


def select_list(model: type[Model], alias: str) -> str:
    """The model's concrete columns, qualified by ``alias``, in model order."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


@functools.cache
def select_with_player_sql(model: type[Model], *equal_to_parameters: str) -> str:
    """A row of ``model`` (alias ``x``) and its player (``p``), as ``select_related("player")``
    reads them, where each named column (``"x.token"``, ``"p.account_id"``) equals a parameter."""
    quote = connection.ops.quote_name
    conditions = " AND ".join(
        f"{alias}.{quote(column)} = %s"
        for alias, column in (name.split(".") for name in equal_to_parameters)
    )
    # Only model metadata (quoted identifiers) is interpolated; values are parameters.
    return (
        f"SELECT {select_list(model, 'x')}, {select_list(Player, 'p')} "  # noqa: S608
        f"FROM {quote(model._meta.db_table)} x "
        f"JOIN {quote(Player._meta.db_table)} p ON p.{quote('id')} = x.{quote('player_id')} "
        f"WHERE {conditions}"
    )


def with_player_from_row(model: type[M], row: Sequence[Any]) -> M:
    """The instance and its player from a row of ``select_with_player_sql``."""
    instance = model_from_row(model, row)
    instance.player = model_from_row(Player, row, start=len(model._meta.concrete_fields))  # type: ignore[attr-defined]
    return instance


@functools.cache
def _lock_with_owner_sql(vendor: str) -> str:
    """The SELECT … FOR UPDATE OF the bet, with its owner's account id last."""
    quote = connection.ops.quote_name
    selected = select_list(Bet, "b")
    lock = " FOR UPDATE OF b" if connection.features.has_select_for_update_of else ""
    # Only model metadata (quoted column names) is interpolated; values are parameters.
    sql = (
        f"SELECT {selected}, p.{quote('account_id')} "  # noqa: S608
        f"FROM {quote(Bet._meta.db_table)} b "
        f"LEFT JOIN {quote(Player._meta.db_table)} p ON p.{quote('id')} = b.{quote('player_id')} "
        f"WHERE b.{quote('provider')} = %s AND b.{quote('bet_key')} = %s{lock}"
    )
    return sql


# PostgreSQL: a whole cancel of an open bet in one statement. The bet is locked first (FOR
# UPDATE, waiting like every lock up to lock_timeout), found by its unique key alone, then
# refunded only if it is still open, undecided and matches what the request says (player,
# currency, amount): the wallet (its UPDATE takes the lock, after the bet's), the refund row and
# the bet's new state. When anything does not match, nothing is written and the caller takes the
# general path, which decides (and flags) every other case. The lock is taken before the
# conditions are read, so they are read on the row as any concurrent transaction left it: a bet
# cancelled meanwhile is not refunded twice.
#
# Why the lookup is a MATERIALIZED step of its own: with the conditions in the same WHERE, the
# planner may walk the (state, provider, created_at) index instead of the unique key, after an
# ANALYZE that saw few open bets; a storm of cancels then scans every open bet on each call.
_REFUND_OPEN_BET_SQL = """
WITH locked AS MATERIALIZED (
    SELECT b.id, b.wallet_id, b.player_id, b.stake, b.state, b.cancel_outcome, b.currency
    FROM {bet} b WHERE b.provider = %s AND b.bet_key = %s
    FOR UPDATE OF b
), target AS (
    SELECT b.id, b.wallet_id, b.stake FROM locked b {owner_join}
    WHERE b.state = 'open' AND b.cancel_outcome = '' {conditions}
), moved AS (
    UPDATE {wallet} w SET balance = w.balance + t.stake, updated_at = %s
    FROM target t WHERE w.id = t.wallet_id
    RETURNING w.id AS wallet_id, w.balance, t.id AS bet_id, t.stake
), refund AS (
    INSERT INTO {ledger} (
        wallet_id, bet_id, kind, amount, balance_after, provider, provider_tx_id, reason,
        created_at)
    SELECT wallet_id, bet_id, 'refund', stake, balance, %s::text, %s::text, '', %s::timestamptz
    FROM moved
)
UPDATE {bet} b
SET state = 'cancelled', cancel_outcome = 'cancelled', cancelled_at = %s, updated_at = %s
FROM moved m WHERE b.id = m.bet_id
RETURNING {bet_columns}, m.balance
"""


@functools.cache
def _refund_open_bet_sql(by_player: bool, by_currency: bool, by_amount: bool) -> str:
    conditions = []
    if by_player:
        conditions.append("AND p.account_id = %s")
    if by_currency:
        conditions.append("AND b.currency = %s")
    if by_amount:
        conditions.append("AND b.stake = %s")
    return _REFUND_OPEN_BET_SQL.format(
        bet=Bet._meta.db_table,
        wallet=Wallet._meta.db_table,
        ledger=LedgerEntry._meta.db_table,
        owner_join=f"JOIN {Player._meta.db_table} p ON p.id = b.player_id" if by_player else "",
        conditions=" ".join(conditions),
        bet_columns=select_list(Bet, "b"),
    )


def refund_open_bet(
    *,
    provider: str,
    bet_key: str,
    tx_id: str,
    account_id: str | None,
    currency: str | None,
    amount: Decimal | None,
) -> tuple[Bet, Decimal] | None:
    """Cancel an open bet in one statement when the request matches it exactly.

    Returns the cancelled bet and the wallet's new balance, or None (nothing written; the bet,
    if it exists, stays locked in the caller's transaction) when the bet is not an open,
    undecided bet of that player, currency and stake, or on a database without data-modifying
    WITH (SQLite): the caller then takes the general path.
    """
    if connection.vendor != "postgresql":
        return None
    now = timezone.now()
    params: list[Any] = [provider, bet_key]
    params += [value for value in (account_id, currency or None, amount) if value is not None]
    params += [now, provider, tx_id or bet_key, now, now, now]
    sql = _refund_open_bet_sql(account_id is not None, bool(currency), amount is not None)
    row = hot_sql.fetch_one(sql, params)
    if row is None:
        return None
    bet = model_from_row(Bet, row)
    count_money_moved(LedgerKind.REFUND, bet.currency, bet.stake)
    return bet, row[-1]


def insert_bet_if_absent(bet: Bet) -> bool:
    """INSERT the bet unless its (provider, bet key) exists; True when this call inserted it.

    ``INSERT … ON CONFLICT DO NOTHING`` waits for a concurrent inserter of the same key to finish,
    so exactly one of two racing requests creates the row and the other then locks it.
    """
    sql, fields = _insert_bet_sql(connection.vendor)
    row = hot_sql.fetch_one(sql, db_values(bet, fields, add=True))
    if row is None:
        return False
    _inserted(bet, row[0])
    return True


def _inserted(bet: Bet, pk: int) -> None:
    """Mark the instance as the row just inserted with this id, as ``save()`` would."""
    bet.pk = pk
    bet._state.adding = False
    bet._state.db = DEFAULT_DB_ALIAS


@functools.cache
def _insert_bet_sql(vendor: str) -> tuple[str, tuple[Field[Any, Any], ...]]:
    """The bet's INSERT … ON CONFLICT DO NOTHING RETURNING id, and its fields in column order."""
    fields = tuple(f for f in Bet._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    table = quote(Bet._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields if f.column)
    placeholders = ", ".join(["%s"] * len(fields))
    # Only model metadata (quoted identifiers) is interpolated; values are parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
    sql += (
        f"ON CONFLICT ({quote('provider')}, {quote('bet_key')}) DO NOTHING RETURNING {quote('id')}"
    )
    return sql, fields


def insert_bet_and_debit(
    bet: Bet, wallet: Wallet, stake: Decimal, *, minimum: Decimal
) -> tuple[bool, Decimal | None]:
    """Open a bet: INSERT it unless its key exists and, if this call inserted it, take its
    stake when the wallet holds at least ``minimum``. Returns (inserted, the new balance or None
    when nothing was taken: the key existed, or the funds fell short).

    On PostgreSQL the INSERT, the wallet's UPDATE and the stake's ledger row are one statement,
    run in that order (each step reads what the one before returned), so the bet row is locked
    before the wallet as everywhere else. The funds check is in the wallet's ``UPDATE``: made on
    the locked row, and made again on the row as a concurrent transaction left it when the
    ``UPDATE`` had to wait for it, so two bets racing for the last funds cannot both pass.
    """
    if connection.vendor != "postgresql":
        if not insert_bet_if_absent(bet):
            return False, None
        # SQLite: transactions are serialised whole, so a check before the move holds.
        if lock_wallet(wallet.pk).balance < minimum:
            return True, None
        taken = move_money(
            wallet,
            -stake,
            kind=LedgerKind.STAKE,
            bet=bet,
            provider=bet.provider,
            provider_tx_id=bet.open_tx_id,
        )
        return True, taken
    sql, fields = _insert_bet_and_debit_sql()
    now = timezone.now()
    row = hot_sql.fetch_one(
        sql,
        [
            *db_values(bet, fields, add=True),
            -stake,
            now,
            wallet.pk,
            minimum,
            LedgerKind.STAKE,
            -stake,
            bet.provider,
            bet.open_tx_id,
            now,
        ],
    )
    if row is None:
        return False, None
    _inserted(bet, row[0])
    if row[1] is not None:
        wallet.balance = row[1]
        count_money_moved(LedgerKind.STAKE, bet.currency, stake)
    return True, row[1]


@functools.cache
def _insert_bet_and_debit_sql() -> tuple[str, tuple[Field[Any, Any], ...]]:
    insert, fields = _insert_bet_sql("postgresql")
    # Only model metadata and fixed text are interpolated; values are parameters.
    sql = f"""
WITH opened AS ({insert}),
moved AS (
    UPDATE {Wallet._meta.db_table} SET balance = balance + %s, updated_at = %s
    WHERE id = %s AND balance >= %s AND EXISTS (SELECT FROM opened)
    RETURNING id, balance
),
staked AS (
    INSERT INTO {_LEDGER_COLUMNS}
    SELECT moved.id, opened.id, %s::text, %s::numeric, moved.balance, %s::text, %s::text, NULL,
           '', %s::timestamptz
    FROM moved, opened
    RETURNING balance_after
)
SELECT opened.id, (SELECT balance_after FROM staked) FROM opened
"""  # noqa: S608
    return sql, fields


def lock_or_insert_bet(template: Bet, *, known_absent: bool = False) -> tuple[Bet, bool]:
    """Lock the bet with the template's key, inserting the template if there is none.

    ``known_absent``: the caller's own locking read just found no such bet, so try the INSERT
    first (a concurrent insert of the key is still handled below).
    """
    if not known_absent:
        existing = lock_bets(template.provider, [template.bet_key]).get(template.bet_key)
        if existing is not None:
            return existing, False
    if insert_bet_if_absent(template):
        return template, True
    # Another request inserted it between our SELECT and INSERT (and has committed): lock it.
    return Bet.objects.select_for_update().get(
        provider=template.provider, bet_key=template.bet_key
    ), False


def lock_wallet(wallet_id: int) -> Wallet:
    """Lock the wallet row and read it, before a debit that must check the balance first (staff
    movements, reversals; on SQLite a bet's funds check too). The statement is built once from
    the model: the ORM's ``select_for_update().get`` compiled it anew on every call, a third of a
    JDB bet's Python when bets still came through here."""
    row = hot_sql.fetch_one(_lock_row_sql(Wallet, connection.vendor, "id"), [wallet_id])
    if row is None:
        raise Wallet.DoesNotExist(f"no wallet with id {wallet_id}")
    return model_from_row(Wallet, row)


_LEDGER_COLUMNS = f"""{LedgerEntry._meta.db_table} (
    wallet_id, bet_id, kind, amount, balance_after, provider, provider_tx_id, staff_user_id,
    reason, created_at)"""

# PostgreSQL: the wallet UPDATE (which takes the row lock and computes the balance), the ledger
# INSERT (with that balance) and, when asked, the bet's UPDATE, in one statement: one round trip.
_MOVE_MONEY_SQL = f"""
WITH moved AS (
    UPDATE {Wallet._meta.db_table} SET balance = balance + %s, updated_at = %s WHERE id = %s
    RETURNING id, balance
){{bet_update}}
INSERT INTO {_LEDGER_COLUMNS}
SELECT id, %s::bigint, %s::text, %s::numeric, balance, %s::text, %s::text, %s::integer,
       %s::text, %s::timestamptz
FROM moved
RETURNING balance_after
"""  # noqa: S608 (fixed text only: the ledger's column list)


@functools.cache
def _move_money_sql(bet_fields: tuple[str, ...]) -> tuple[str, tuple[Field[Any, Any], ...]]:
    if not bet_fields:
        return _MOVE_MONEY_SQL.format(bet_update=""), ()
    update, model_fields = _bet_update(bet_fields)
    return _MOVE_MONEY_SQL.format(bet_update=f", saved AS ({update})"), model_fields


def move_money(
    wallet: Wallet,
    amount: Decimal,
    *,
    kind: str,
    bet: Bet | None = None,
    provider: str = "",
    provider_tx_id: str = "",
    staff_user_id: int | None = None,
    reason: str = "",
    bet_fields: tuple[str, ...] = (),
) -> Decimal:
    """Apply a signed amount to a wallet and append its ledger row; returns the new balance.

    The UPDATE locks the wallet row if the caller has not (a refund or a win needs no balance
    check first). A bet's debit checks the funds in its own UPDATE (``insert_bet_and_debit``); other
    debits lock the wallet and check first. The constraint ``wallet_balance_never_negative`` is
    the backstop. ``bet_fields``: also write these fields of ``bet`` (and ``updated_at``), in the
    same statement on PostgreSQL, as ``save_bet`` would.
    """
    if connection.vendor == "postgresql":
        try:
            balance = _move_money_postgres(
                wallet,
                amount,
                kind=kind,
                bet=bet,
                provider=provider,
                provider_tx_id=provider_tx_id,
                staff_user_id=staff_user_id,
                reason=reason,
                bet_fields=bet_fields,
            )
        except DataError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == _NUMERIC_VALUE_OUT_OF_RANGE:
                raise BalanceLimitExceeded(wallet) from exc
            raise
        if balance is None:
            raise Wallet.DoesNotExist(f"wallet {wallet.pk} does not exist")
        count_money_moved(kind, _currency(wallet, bet), amount)
        return balance
    # SQLite: its transactions are serialised whole (IMMEDIATE), so reading the balance and
    # writing it back is safe; the sum is made in Decimal, never in SQLite's floating point.
    now = timezone.now()
    current = Wallet.objects.values_list("balance", flat=True).get(pk=wallet.pk)
    # SQLite stores any number: the column's limit is checked here, as PostgreSQL would.
    if current + amount > MAX_AMOUNT or (bet is not None and bet.win > MAX_AMOUNT):
        raise BalanceLimitExceeded(wallet)
    wallet.balance = current + amount
    Wallet.objects.filter(pk=wallet.pk).update(balance=wallet.balance, updated_at=now)
    LedgerEntry.objects.create(
        wallet=wallet,
        bet=bet,
        kind=kind,
        amount=amount,
        balance_after=wallet.balance,
        provider=provider,
        provider_tx_id=provider_tx_id,
        staff_user_id=staff_user_id,
        reason=reason,
    )
    if bet is not None and bet_fields:
        save_bet(bet, *bet_fields)
    count_money_moved(kind, _currency(wallet, bet), amount)
    return wallet.balance


def _currency(wallet: Wallet, bet: Bet | None) -> str:
    """The movement's currency for metrics, without loading a deferred field (a query)."""
    loaded = wallet.__dict__.get("currency")
    if loaded is None and bet is not None:
        loaded = bet.__dict__.get("currency")
    return str(loaded or "")


def _move_money_postgres(
    wallet: Wallet,
    amount: Decimal,
    *,
    kind: str,
    bet: Bet | None,
    provider: str,
    provider_tx_id: str,
    staff_user_id: int | None = None,
    reason: str = "",
    bet_fields: tuple[str, ...] = (),
) -> Decimal | None:
    """``move_money`` in one statement; None when no wallet row matched: nothing was written
    then."""
    now = timezone.now()
    fields = (*bet_fields, "updated_at") if bet_fields else ()
    sql, model_fields = _move_money_sql(fields)
    params: list[Any] = [amount, now, wallet.pk]
    if bet is not None and model_fields:
        params += db_values(bet, model_fields, add=False)
        params.append(bet.pk)
    params += [
        bet.pk if bet is not None else None,
        kind,
        amount,
        provider,
        provider_tx_id,
        staff_user_id,
        reason[:500],
        now,
    ]
    row = hot_sql.fetch_one(sql, params)
    if row is None:
        return None
    wallet.balance = row[0]
    return wallet.balance


def _bet_field(name: str) -> Field[Any, Any]:
    field = Bet._meta.get_field(name)
    assert isinstance(field, Field) and field.concrete, name
    return field


@functools.cache
def _bet_update(fields: tuple[str, ...]) -> tuple[str, tuple[Field[Any, Any], ...]]:
    model_fields = tuple(_bet_field(name) for name in fields)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in model_fields)
    # Only model metadata (quoted column names) is interpolated; values are parameters.
    sql = f"UPDATE {quote(Bet._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608
    return sql, model_fields


def save_bet(bet: Bet, *fields: str) -> None:
    """Write these fields (and ``updated_at``) of a locked bet: one UPDATE, no ORM compiling."""
    sql, model_fields = _bet_update((*fields, "updated_at"))
    hot_sql.execute(sql, [*db_values(bet, model_fields, add=False), bet.pk])


def flag(bet: Bet, reason: str) -> None:
    """Mark a bet for staff review (kept in the caller's transaction)."""
    bet.needs_review = True
    bet.review_reason = reason[:255]
