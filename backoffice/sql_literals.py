"""Parameters as SQL literals, for statements sent as text (``backoffice/hot_sql.py``).

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
from collections.abc import Sequence
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
        if value is None:
            return b"NULL"
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, bool):
            return b"true" if value else b"false"
        if isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite()):
            # A leading space keeps "-" after a "-" in the statement from starting a comment.
            number = str(value).encode()
            return b" " + number if number.startswith(b"-") else number
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return self._text(str(value)) + b"::timestamptz"
        if isinstance(value, Jsonb):
            dumped = (value.dumps or json.dumps)(value.obj)
            document = dumped.decode() if isinstance(dumped, bytes) else dumped
            return self._text(document) + b"::jsonb"
        return bytes(self._transformer.as_literal(value))

    def _text(self, text: str) -> bytes:
        # PQescapeLiteral: quotes doubled, backslashes as an E'' string; NUL cannot be sent.
        if "\x00" in text:
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return bytes(self._escaping.escape_literal(text.encode(self._encoding)))
