"""Parameters as SQL literals, for statements sent as text (``wallet/db/hot_sql.py``).

What psycopg's client-side binding (``ClientCursor.mogrify``) does, for the few types the hot
statements carry, at a fraction of its cost (mogrify went through psycopg's generic adaptation
for every value: 110 µs per statement, a seventh of a cancel's Python). Text is quoted by
libpq's own ``PQescapeLiteral`` (``psycopg.pq.Escaping``), exactly as psycopg quotes it; every
other type is handed to psycopg (``Transformer.as_literal``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import pq
from psycopg.abc import Transformer
from psycopg.types.json import Jsonb

_PLACEHOLDER = re.compile(rb"%s|%%")


def split_at_placeholders(sql: bytes) -> tuple[bytes, ...]:
    """The text around each ``%s`` (``%%`` is a literal ``%``): n placeholders, n + 1 parts."""
    parts: list[bytes] = []
    current = b""
    last = 0
    for match in _PLACEHOLDER.finditer(sql):
        current += sql[last : match.start()]
        last = match.end()
        if match.group() == b"%%":
            current += b"%"
        else:
            parts.append(current)
            current = b""
    parts.append(current + sql[last:])
    return tuple(parts)


class Literals:
    """Quotes values for one connection (its encoding and its escaping)."""

    def __init__(self, pgconn: pq.abc.PGconn, transformer: Transformer, encoding: str) -> None:
        self._escaping = pq.Escaping(pgconn)
        self._transformer = transformer
        self._encoding = encoding
        self._by_type: dict[type, Callable[[Any], bytes]] = {
            type(None): _null,
            str: self._text,
            bool: _boolean,
            int: _number,
            Decimal: self._decimal,
            dt.datetime: self._datetime,
            Jsonb: self._jsonb,
        }

    def fill(self, parts: tuple[bytes, ...], params: Sequence[Any]) -> bytes:
        """``parts`` (from ``split_at_placeholders``) with each gap filled by a literal."""
        if len(params) != len(parts) - 1:
            raise TypeError(f"the statement takes {len(parts) - 1} parameters, not {len(params)}")
        pieces = [parts[0]]
        for value, part in zip(params, parts[1:], strict=True):
            pieces.append(self.literal(value))
            pieces.append(part)
        return b"".join(pieces)

    def literal(self, value: Any) -> bytes:
        # One dict lookup by the value's exact type for the thirty-odd values of every request's
        # statements.
        quote = self._by_type.get(type(value))
        return quote(value) if quote is not None else self._first_of_its_type(value)

    def _first_of_its_type(self, value: Any) -> bytes:
        """A type met for the first time takes its nearest quoted base's way (a str enum as
        text, an IntEnum as a number), else psycopg's; remembered (the code's types, a few)."""
        quote = next(
            (self._by_type[base] for base in type(value).__mro__ if base in self._by_type),
            self._psycopg,
        )
        self._by_type[type(value)] = quote
        return quote(value)

    def _psycopg(self, value: Any) -> bytes:
        return bytes(self._transformer.as_literal(value))

    def _decimal(self, value: Decimal) -> bytes:
        return _number(value) if value.is_finite() else self._psycopg(value)

    def _datetime(self, value: dt.datetime) -> bytes:
        if value.tzinfo is None:  # a naive datetime: psycopg's literal
            return self._psycopg(value)
        return self._text(str(value)) + b"::timestamptz"

    def _jsonb(self, value: Jsonb) -> bytes:
        dumped = (value.dumps or json.dumps)(value.obj)
        document = dumped.decode() if isinstance(dumped, bytes) else dumped
        return self._text(document) + b"::jsonb"

    def _text(self, text: str) -> bytes:
        # PQescapeLiteral: quotes doubled, backslashes as an E'' string; NUL cannot be sent.
        if "\x00" in text:
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return bytes(self._escaping.escape_literal(text.encode(self._encoding)))


def _null(value: None) -> bytes:
    return b"NULL"


def _boolean(value: bool) -> bytes:
    return b"true" if value else b"false"


def _number(value: int | Decimal) -> bytes:
    # A leading space keeps "-" after a "-" in the statement from starting a comment.
    number = str(value).encode()
    return b" " + number if number.startswith(b"-") else number
