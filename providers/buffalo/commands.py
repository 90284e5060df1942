"""Buffalo requests validated into typed commands; any bad field raises ``BadInput``.

Field shapes follow ``docs/providers/buffalo.md`` (Evolution's One Wallet): ids are strings of
at most 64 characters, ``amount`` is a JSON number with at most 6 decimals and never negative.
``channel`` and ``game.details`` are informational and not validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from providers import fields
from providers.fields import BadInput

ID_LENGTH = 64  # Buffalo's string(64)
UUID_LENGTH = 128


@dataclass(frozen=True, slots=True)
class SessionCommand:
    """``check`` and ``balance``: a session and, for balance, an optional currency."""

    sid: str
    user_id: str
    uuid: str
    currency: str = ""


@dataclass(frozen=True, slots=True)
class SidCommand:
    """``sid`` (test environments only): a fresh session for a player."""

    user_id: str
    uuid: str


@dataclass(frozen=True, slots=True)
class TransactionCommand:
    """``debit``, ``credit`` and ``cancel``: one transaction on the debit named by ``ref_id``."""

    sid: str
    user_id: str
    uuid: str
    currency: str
    round_id: str
    game_type: str
    game_session: str
    tx_id: str
    ref_id: str
    amount: Decimal


def request_uuid(payload: dict[str, Any]) -> str:
    """The request's uuid when it is a usable string, else "" (to echo even in refusals)."""
    value = payload.get("uuid")
    return value[:UUID_LENGTH] if isinstance(value, str) else ""


def _currency(data: dict[str, Any], *, required: bool) -> str:
    value = fields.text(data, "currency", max_length=10, required=required)
    if value and not value.isalpha():
        raise BadInput("currency must be a currency code such as USD")
    return value.upper()


def _identity(data: dict[str, Any]) -> tuple[str, str]:
    return (
        fields.text(data, "userId", max_length=ID_LENGTH),
        fields.text(data, "uuid", max_length=UUID_LENGTH),
    )


def session_command(data: dict[str, Any], *, with_currency: bool) -> SessionCommand:
    user_id, uuid = _identity(data)
    return SessionCommand(
        sid=fields.text(data, "sid", max_length=ID_LENGTH),
        user_id=user_id,
        uuid=uuid,
        currency=_currency(data, required=False) if with_currency else "",
    )


def sid_command(data: dict[str, Any]) -> SidCommand:
    user_id, uuid = _identity(data)
    return SidCommand(user_id=user_id, uuid=uuid)


def transaction_command(data: dict[str, Any]) -> TransactionCommand:
    user_id, uuid = _identity(data)
    game = fields.mapping(data, "game")
    transaction = fields.mapping(data, "transaction")
    try:
        round_id = fields.text(game, "id", max_length=ID_LENGTH)
        game_type = fields.text(game, "type", max_length=ID_LENGTH)
        game_session = fields.text(game, "session", max_length=128, required=False)
    except BadInput as exc:
        raise BadInput(f"game.{exc}") from exc
    try:
        tx_id = fields.text(transaction, "id", max_length=ID_LENGTH)
        ref_id = fields.text(transaction, "refId", max_length=ID_LENGTH)
        amount = fields.amount(transaction, "amount")
    except BadInput as exc:
        raise BadInput(f"transaction.{exc}") from exc
    return TransactionCommand(
        sid=fields.text(data, "sid", max_length=ID_LENGTH),
        user_id=user_id,
        uuid=uuid,
        currency=_currency(data, required=True),
        round_id=round_id,
        game_type=game_type,
        game_session=game_session,
        tx_id=tx_id,
        ref_id=ref_id,
        amount=amount,
    )
