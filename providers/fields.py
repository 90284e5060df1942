"""Typed readers for decoded payloads: each returns a clean value or raises ``BadInput``.

Adapters turn a provider's payload into a frozen command with these, so that every missing or
mistyped field gets one clear message naming the field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wallet.money import InvalidAmount, parse_amount


class BadInput(ValueError):
    """A field is missing, mistyped or out of range; the message names it."""


_MISSING = object()


def _get(data: dict[str, Any], name: str) -> Any:
    value = data.get(name, _MISSING)
    if value is _MISSING or value is None:
        raise BadInput(f"{name} is missing")
    return value


def text(data: dict[str, Any], name: str, *, max_length: int = 128, required: bool = True) -> str:
    """A non-empty string (or, when not required, "" for a missing/null one)."""
    if not required and data.get(name) is None:
        return ""
    value = _get(data, name)
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise BadInput(f"{name} must not be empty")
    if len(value) > max_length:
        raise BadInput(f"{name} is longer than {max_length} characters")
    return value


def identifier(
    data: dict[str, Any], name: str, *, max_length: int = 128, required: bool = True
) -> str:
    """An id sent as a string or as a whole number (JDB sends Longs); returned as text."""
    if not required and data.get(name) is None:
        return ""
    value = _get(data, name)
    if isinstance(value, bool):
        raise BadInput(f"{name} must be a string or a whole number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        raise BadInput(f"{name} must be a whole number, not a decimal")
    return text(data, name, max_length=max_length)


def integer(data: dict[str, Any], name: str) -> int:
    value = _get(data, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a whole number")
    return value


def boolean(data: dict[str, Any], name: str, *, default: bool | None = None) -> bool:
    if data.get(name) is None and default is not None:
        return default
    value = _get(data, name)
    if not isinstance(value, bool):
        raise BadInput(f"{name} must be true or false")
    return value


def amount(
    data: dict[str, Any], name: str, *, allow_negative: bool = False, allow_text: bool = False
) -> Decimal:
    value = _get(data, name)
    try:
        return parse_amount(value, field=name, allow_negative=allow_negative, allow_text=allow_text)
    except InvalidAmount as exc:
        raise BadInput(str(exc)) from exc


def mapping(data: dict[str, Any], name: str, *, required: bool = True) -> dict[str, Any]:
    if not required and data.get(name) is None:
        return {}
    value = _get(data, name)
    if not isinstance(value, dict):
        raise BadInput(f"{name} must be an object")
    return value


def identifier_list(data: dict[str, Any], name: str, *, max_items: int = 100) -> list[str]:
    value = _get(data, name)
    if not isinstance(value, list) or not value:
        raise BadInput(f"{name} must be a non-empty list")
    if len(value) > max_items:
        raise BadInput(f"{name} has more than {max_items} items")
    return [identifier({name: item}, name) for item in value]
