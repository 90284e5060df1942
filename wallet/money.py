"""Exact money: parse provider amounts and amounts typed by people into ``Decimal``, and
format balances rounded down."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from wallet.models import MONEY_DIGITS, MONEY_PLACES

_MAX_INTEGER_DIGITS = MONEY_DIGITS - MONEY_PLACES
#: The largest amount a wallet column (numeric(20,6)) can hold.
MAX_AMOUNT = Decimal(10) ** _MAX_INTEGER_DIGITS - Decimal(1).scaleb(-MONEY_PLACES)

#: ISO 4217 minor units where they are not 2; any other currency code has 2.
_CURRENCY_PLACES = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"], 0),
    **dict.fromkeys(["RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


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
    # Size first: quantizing a number wider than the decimal context (28 digits) raises
    # InvalidOperation, which is bad input, not an outage.
    if abs(amount) >= Decimal(10) ** _MAX_INTEGER_DIGITS:
        raise InvalidAmount(f"{field} is too large")
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -MONEY_PLACES and amount != amount.quantize(Decimal(1).scaleb(-MONEY_PLACES)):
        raise InvalidAmount(f"{field} has more than {MONEY_PLACES} decimal places")
    if amount < 0 and not allow_negative:
        raise InvalidAmount(f"{field} must not be negative")
    return amount.quantize(Decimal(1).scaleb(-MONEY_PLACES)) + 0


def round_down(amount: Decimal, places: int) -> Decimal:
    """Round toward zero to ``places`` decimals: a balance is never overstated."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def format_fixed(amount: Decimal, places: int) -> str:
    """Text with exactly ``places`` decimals, rounded down (JDB's balance string, CSV cells)."""
    return f"{round_down(amount, places):.{places}f}"


def currency_places(currency: str) -> int:
    """The currency's decimals (its ISO 4217 minor unit): what a person may type and sees."""
    return _CURRENCY_PLACES.get(currency.upper(), 2)


_TYPED_AMOUNT = re.compile(r"(?P<whole>[0-9]+)(?:[.,](?P<fraction>[0-9]+))?")


def parse_typed_amount(text: str, *, currency: str, field: str = "The amount") -> Decimal:
    """Parse an amount a person typed, or raise ``InvalidAmount`` with an example.

    Accepted: digits with at most one separator, ``.`` or ``,``, which is always the decimal
    point (``0,50`` is fifty cents), and at most the currency's decimals. Refused: thousands
    separators, exponents, signs, spaces inside, and anything else, because a misread amount
    is credited to a player before anyone notices.
    """
    places = currency_places(currency)
    typed = text.strip()
    example = "12" if places == 0 else "12" + "." + "5".ljust(places, "0")
    accepted = (
        f"type digits only, for example {example}"
        if places == 0
        else f"type digits with one decimal point or comma, for example {example} or "
        f"{example.replace('.', ',')}"
    )
    shown = typed[:40]
    match = _TYPED_AMOUNT.fullmatch(typed)
    if match is None:
        if not typed:
            raise InvalidAmount(f"{field} is empty: {accepted}")
        if typed[0] in "+-":
            raise InvalidAmount(f"{field} {shown!r} has a sign: {accepted}")
        raise InvalidAmount(f"{field} {shown!r} is not a plain amount: {accepted}")
    fraction = match["fraction"] or ""
    if len(fraction) > places:
        raise InvalidAmount(
            f"{field} {shown!r} has {len(fraction)} decimals; {currency} has {places}: {accepted}"
        )
    whole = match["whole"].lstrip("0")
    if len(whole) > _MAX_INTEGER_DIGITS:
        raise InvalidAmount(
            f"{field} {shown!r} is too large: at most {_MAX_INTEGER_DIGITS} digits before the "
            "decimal point"
        )
    return Decimal(f"{whole or 0}.{fraction}" if fraction else whole or "0").quantize(
        Decimal(1).scaleb(-MONEY_PLACES)
    )


def amount_in_words(amount: Decimal, currency: str) -> str:
    """The amount as a cheque writes it, "one thousand and five USD and 50/100", so that a
    figure typed ten or a hundred times too large is seen before it is credited."""
    from num2words import num2words  # only the staff confirmation page needs it

    places = currency_places(currency)
    whole = int(amount)
    words = f"{num2words(whole)} {currency}"
    if places:
        minor = int((amount - whole).scaleb(places).to_integral_value(ROUND_DOWN))
        words += f" and {minor:0{places}d}/{10**places}"
    return words
