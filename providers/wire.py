"""Strict JSON in, exact JSON out.

In: numbers become ``Decimal`` from their text (never float), NaN/Infinity are refused, duplicate
keys are refused (two values for one field is ambiguous, and ambiguity is how money goes
missing), key order is kept, and nesting deeper than ``MAX_DEPTH`` is refused before parsing.
Out: ``Decimal`` is written as a JSON number, exactly.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

#: The deepest nesting of arrays and objects a body may have. No provider sends more than 3
#: levels; everything that walks a payload afterwards (hashing, redaction, the journal) recurses,
#: so a body 600 deep would otherwise cost work and stack before anyone is authenticated.
MAX_DEPTH = 32

# A string (closed or not: one that runs to the end is taken whole, so no match ever fails and
# backtracks) or one bracket; read left to right, each character once.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


class WireError(ValueError):
    """The body is not acceptable JSON; the message says why."""


class TooDeep(WireError):
    """The body nests arrays and objects deeper than ``MAX_DEPTH``."""


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Raise ``TooDeep`` if ``text`` opens more than ``limit`` arrays/objects at once.

    Every ordinary body opens fewer brackets in all than the limit, which two C-speed counts
    show; only a body with more is scanned, in one pass that skips strings so that a bracket
    inside a string does not count. Unbalanced text is left for the parser to refuse.
    """
    if text.count("{") + text.count("[") <= limit:
        return
    depth = 0
    for token in _TOKENS.findall(text):
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                raise TooDeep(f"body nests deeper than {limit} levels")
        elif token in ("]", "}"):
            depth -= 1


def _no_constants(name: str) -> Any:
    raise WireError(f"{name} is not a number we accept")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise WireError(f"duplicate key {key!r}")
        _check_text(key)
        if isinstance(value, str | list):
            _check_text(value)  # objects inside were checked by their own call of this hook
        result[key] = value
    return result


def _check_text(value: str | list[Any]) -> None:
    """Refuse text no database column can hold: NUL characters and unpaired surrogates.

    JSON can spell both (``\\u0000``, ``\\ud800``); PostgreSQL refuses NUL in text and JSON,
    and no driver can encode a lone surrogate. Let through, they would fail the wallet's lookups
    and the journal row as an unexpected error instead of a parameter error.
    """
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str | list):
                _check_text(item)
        return
    if "\x00" in value:
        raise WireError("a string holds a NUL character")
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise WireError("a string holds an unpaired surrogate (not Unicode text)") from exc


def loads_object(text: str | bytes) -> dict[str, Any]:
    """Parse a JSON object strictly, or raise ``WireError``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError("body is not UTF-8") from exc
    check_depth(text)
    try:
        value = json.loads(
            text,
            parse_float=Decimal,
            parse_int=int,
            parse_constant=_no_constants,
            object_pairs_hook=_no_duplicates,
        )
    except WireError:
        raise
    except (ValueError, RecursionError) as exc:
        raise WireError(f"body is not valid JSON ({str(exc)[:80]})") from exc
    if not isinstance(value, dict):
        raise WireError("body is not a JSON object")
    return value


def dumps(value: Any) -> str:
    """Compact JSON with ``Decimal`` written as a number (its exact text)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("cannot write a non-finite amount")
        text = format(value, "f")
        return text
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def to_jsonable(value: Any) -> Any:
    """A copy fit for a JSONField (journal): Decimals become strings, exactly."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value
