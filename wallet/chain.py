"""Tamper evidence: every ledger row and every staff audit row carries an HMAC-SHA256 chained to
the row before it (docs/ledger-chain.md).

A ledger row's link is computed by the database in the transaction that writes it (trigger
``wallet_ledger_chain``, migration 0012): on PostgreSQL in PL/pgSQL with pgcrypto, from the key
each connection receives as the session setting ``backoffice.ledger_chain_key``; on SQLite by
``ledger_link_sqlite``, registered on each connection. The audit chain is computed here, in
Python, under a lock on its single head row (staff actions are rare). ``verify_ledger``
recomputes both with this module's encoding, independently of the database's copy of it.

The message of a link is a sequence of netstrings (``<byte length>:<UTF-8 bytes>,``): a version
tag, the previous row's link in hex (empty for a chain's first row), then the row's fields as
text. Netstrings make the encoding unambiguous whatever the fields contain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from typing import Any

from django.conf import settings

#: The PostgreSQL session setting the ledger trigger reads the key from.
KEY_SETTING = "backoffice.ledger_chain_key"
#: What ``key_probe`` signs.
KEY_PROBE = "backoffice ledger chain key probe"
LEDGER_VERSION = "ledger-v1"
AUDIT_VERSION = "audit-v1"
#: The ledger's columns in the order the trigger and ``ledger_link`` encode them.
LEDGER_FIELDS = (
    "id",
    "wallet_id",
    "bet_id",
    "kind",
    "amount",
    "balance_after",
    "provider",
    "provider_tx_id",
    "staff_user_id",
    "reason",
    "created_at",
)
AUDIT_FIELDS = (
    "id",
    "actor_id",
    "action",
    "bet_id",
    "player_id",
    "reason",
    "before",
    "after",
    "created_at",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_PLACES = Decimal("0.000001")
#: How Django's SQLite backend reads a decimal stored as a float (15 significant digits).
_FLOAT_DECIMAL = Context(prec=15).create_decimal_from_float


def chain_key() -> bytes:
    """The key, from the environment (``LEDGER_CHAIN_KEY``), never from the database."""
    key = str(getattr(settings, "LEDGER_CHAIN_KEY", "") or "")
    if not key:
        raise RuntimeError("LEDGER_CHAIN_KEY is not set: ledger rows cannot be chained")
    return key.encode()


def give_session_key(psycopg_connection: Any) -> None:
    """Set the key on a PostgreSQL session (psycopg's connection, not Django's), bound as a
    parameter: neither the statement's text, Django's query log nor an ``execute_wrapper``
    sees it. In autocommit mode, or it is lost with the transaction that set it."""
    psycopg_connection.execute(
        "SELECT set_config(%s, %s, false)", [KEY_SETTING, chain_key().decode()], prepare=False
    )


def netstrings(parts: Iterable[str]) -> bytes:
    # One encode of the whole text: an ASCII part's length in characters is its length in bytes.
    return "".join(
        [f"{len(part) if part.isascii() else len(part.encode())}:{part}," for part in parts]
    ).encode()


def money_text(value: Any) -> str:
    """An amount with exactly six decimals, as PostgreSQL's ``round(amount, 6)::text``."""
    if isinstance(value, float):
        value = _FLOAT_DECIMAL(value)
    amount = Decimal(value).quantize(_PLACES)
    return f"{amount.copy_abs() if amount == 0 else amount:f}"


def time_text(value: datetime | str) -> str:
    """Microseconds since the Unix epoch, UTC (a naive value, as SQLite stores it, is UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str((value - _EPOCH) // _MICROSECOND)


def _optional(value: Any) -> str:
    return "" if value is None else str(value)


def _link(key: bytes, version: str, previous: bytes | None, fields: Iterable[str]) -> bytes:
    message = netstrings((version, previous.hex() if previous else "", *fields))
    return hmac.digest(key, message, "sha256")


def ledger_link(key: bytes, previous: bytes | None, row: tuple[Any, ...]) -> bytes:
    """The link of a ledger row: ``row`` holds ``LEDGER_FIELDS`` in order, as the database
    returns them (PostgreSQL) or stores them (SQLite)."""
    (entry_id, wallet_id, bet_id, kind, amount, balance_after, provider, tx_id, staff_id,
     reason, created_at) = row  # fmt: skip
    return _link(
        key,
        LEDGER_VERSION,
        previous,
        (
            str(entry_id),
            str(wallet_id),
            _optional(bet_id),
            kind,
            money_text(amount),
            money_text(balance_after),
            provider,
            tx_id,
            _optional(staff_id),
            reason,
            time_text(created_at),
        ),
    )


def ledger_link_sqlite(previous: bytes | None, *row: Any) -> bytes:
    """The SQLite trigger's function (``wallet_ledger_chain(previous, <LEDGER_FIELDS>)``)."""
    return ledger_link(chain_key(), previous, row)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same text however the database kept it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def audit_link(key: bytes, previous: bytes | None, row: tuple[Any, ...]) -> bytes:
    """The link of a staff audit row: ``row`` holds ``AUDIT_FIELDS`` in order."""
    entry_id, actor_id, action, bet_id, player_id, reason, before, after, created_at = row
    return _link(
        key,
        AUDIT_VERSION,
        previous,
        (
            str(entry_id),
            str(actor_id),
            action,
            _optional(bet_id),
            _optional(player_id),
            reason,
            canonical_json(before),
            canonical_json(after),
            time_text(created_at),
        ),
    )


def key_probe(key: bytes) -> str:
    """A fingerprint of the key that reveals nothing of it, to compare the app's key with the
    database session's (system check) without sending the key back: SHA-256 of the key and a
    fixed text, which PostgreSQL computes without pgcrypto (a check may run before migrate)."""
    return hashlib.sha256(key + KEY_PROBE.encode()).hexdigest()
