"""Exact money: parse provider amounts into ``Decimal`` and format balances rounded down."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from wallet.models import MONEY_DIGITS, MONEY_PLACES

_MAX_INTEGER_DIGITS = MONEY_DIGITS - MONEY_PLACES


class InvalidAmount(ValueError):
    """The value is not an acceptable amount; the message says why (it reaches the provider)."""


def parse_amount(
    value: object, *, field: str = "amount", allow_negative: bool = False, allow_text: bool = False
) -> Decimal:
    """Turn a JSON value into an exact amount, or raise ``InvalidAmount``.

    JSON numbers must have been parsed as ``Decimal`` from their text (``parse_float=Decimal``),
    never via float. Booleans, NaN, infinities, more than 6 decimal places, too many digits and
    (unless allowed) negatives are refused. ``allow_text`` admits a numeric string.
    """
    if isinstance(value, bool):
        raise InvalidAmount(f"{field} must be a number, not a boolean")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and allow_text:
        try:
            amount = Decimal(value.strip())
        except InvalidOperation as exc:
            raise InvalidAmount(f"{field} is not a number: {value[:40]!r}") from exc
    elif isinstance(value, float):
        # Only reached when a caller parsed JSON the wrong way; refuse rather than round.
        raise InvalidAmount(f"{field} was parsed as a float; refusing an inexact amount")
    else:
        raise InvalidAmount(f"{field} must be a number")
    if not amount.is_finite():
        raise InvalidAmount(f"{field} must be a finite number")
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -MONEY_PLACES and amount != amount.quantize(Decimal(1).scaleb(-MONEY_PLACES)):
        raise InvalidAmount(f"{field} has more than {MONEY_PLACES} decimal places")
    if amount < 0 and not allow_negative:
        raise InvalidAmount(f"{field} must not be negative")
    if abs(amount) >= Decimal(10) ** _MAX_INTEGER_DIGITS:
        raise InvalidAmount(f"{field} is too large")
    return amount.quantize(Decimal(1).scaleb(-MONEY_PLACES)) + 0


def round_down(amount: Decimal, places: int) -> Decimal:
    """Round toward zero to ``places`` decimals: a balance is never overstated."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def format_fixed(amount: Decimal, places: int) -> str:
    """Text with exactly ``places`` decimals, rounded down (JDB's balance string, CSV cells)."""
    return f"{round_down(amount, places):.{places}f}"
