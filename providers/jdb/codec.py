"""From the raw form body to the decrypted JSON object JDB sent.

The body is ``application/x-www-form-urlencoded`` with one field ``x``; we parse the raw bytes
ourselves (``urllib.parse``) rather than ``request.POST``, so the body limit, the encoding and
duplicate fields are under our control.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from providers.jdb.crypto import JdbCryptoError, decrypt
from providers.wire import TooDeep, WireError, check_depth, loads_object

_MAX_FORM_FIELDS = 20


class NotAuthenticated(ValueError):
    """``x`` is missing or does not decrypt to a JSON object: we cannot trust or read it."""


class UnacceptableJson(ValueError):
    """``x`` decrypted to a JSON object we refuse (NaN, Infinity, a duplicate key).

    The key was right (the text parsed), so this is a parameter error, not an authentication
    failure; ``payload`` is a journal-safe reading of it (constants kept as text).
    """

    def __init__(self, message: str, payload: dict[str, Any]) -> None:
        super().__init__(message)
        self.payload = payload


def read_x(body: bytes) -> str:
    """The single ``x`` value of the form body."""
    try:
        text = body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotAuthenticated(f"body is not a form: {str(exc)[:80]}") from exc
    values = fields.get("x")
    if not values:
        raise NotAuthenticated("form field x is missing")
    if len(values) > 1:
        raise NotAuthenticated("form field x is given more than once")
    if not values[0].strip():
        raise NotAuthenticated("form field x is empty")
    return values[0]


def decode_payload(x: str, key: bytes, iv: bytes) -> dict[str, Any]:
    """Decrypt ``x`` and parse it as a strict JSON object (numbers as exact ``Decimal``)."""
    try:
        text = decrypt(x, key, iv)
    except JdbCryptoError as exc:
        raise NotAuthenticated(str(exc)) from exc
    try:
        return loads_object(text)
    except TooDeep as exc:  # it decrypted, so JDB's key made it: a parameter error, not read
        raise UnacceptableJson(str(exc), {}) from exc
    except WireError as exc:
        lenient = _lenient_object(text)
        if lenient is None:
            raise NotAuthenticated(f"x does not decrypt to a JSON object: {exc}") from exc
        raise UnacceptableJson(str(exc), lenient) from exc


def _lenient_object(text: str) -> dict[str, Any] | None:
    """The object as a permissive parser reads it, or None when it is not JSON at all."""
    try:
        check_depth(text)  # the journal keeps what this returns: never deeper than the limit
        value = json.loads(text, parse_float=str, parse_constant=str)
    except ValueError:  # TooDeep is one
        return None
    return value if isinstance(value, dict) else None
