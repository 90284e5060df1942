"""``JSON.stringify`` as JavaScript does it, over data parsed by ``providers.wire.loads_object``.

Naga hashes ``JSON.stringify(data)`` on their side: compact, keys in insertion order, numbers
printed by JavaScript's ``Number.prototype.toString``. We receive that data parsed with exact
``Decimal`` numbers and must rebuild the very same text to check ``dataHash``, so numbers are
printed the JavaScript way here: ``10.50`` -> ``10.5``, ``1e21`` -> ``1e+21``, ``-0`` -> ``0``,
``9007199254740993`` -> ``9007199254740992``.

This text is used only for hashing and signing; amounts are still read as exact ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


class NotSerialisable(TypeError):
    """A value JavaScript's ``JSON.stringify`` would not produce from parsed JSON."""


def js_stringify(value: Any) -> str:
    """The exact text ``JSON.stringify(value)`` prints for a value parsed from JSON."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | Decimal | float):
        return js_number_json(value)
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{js_string(str(k))}:{js_stringify(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(js_stringify(v) for v in value) + "]"
    raise NotSerialisable(f"cannot stringify a {type(value).__name__}")


def js_number_json(value: int | Decimal | float) -> str:
    """A number inside ``JSON.stringify``: like ``String(n)``, but NaN and infinities are null."""
    number = _to_double(value)
    if number != number or number in (float("inf"), float("-inf")):
        return "null"
    return js_number(number)


def js_number(number: float) -> str:
    """``Number.prototype.toString()`` for a finite double (ECMA-262 Number::toString).

    The digits are the shortest that read back as the same double (Python's ``repr`` finds the
    same ones as V8); only the layout (plain or exponent form) differs from Python's.
    """
    if number == 0:
        return "0"  # also -0: JavaScript prints it without the sign
    sign = "-" if number < 0 else ""
    shortest = Decimal(repr(abs(number))).normalize()
    parts = shortest.as_tuple()
    digits = "".join(str(d) for d in parts.digits)
    exponent = parts.exponent
    assert isinstance(exponent, int)  # finite
    k = len(digits)
    n = exponent + k  # the value is 0.<digits> * 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    power = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"


def _to_double(value: int | Decimal | float) -> float:
    """The double JavaScript would hold for this JSON number (round half to even, like JS)."""
    if isinstance(value, float):
        return value
    try:
        # float() of an int or Decimal is correctly rounded, as JavaScript's number parsing is.
        return float(value)
    except OverflowError:  # an int too large for a double: JavaScript reads Infinity
        return float("inf") if value > 0 else float("-inf")


def js_string(text: str) -> str:
    """A JSON string as ``JSON.stringify`` writes it (ES2019 well-formed: lone surrogates
    escaped, everything else outside the control range left as is)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            # A Python str holds a surrogate only when it was unpaired in the JSON text.
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
