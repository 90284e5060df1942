"""Amounts in and out: decimal strings, parsed by the admin's own parser, never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_attribute

from wallet.money import InvalidAmount, currency_places, parse_typed_amount


def amount_text(value: Decimal | None, currency: str) -> str | None:
    """An exact amount with at least the currency's decimals: ``992.50``, ``0.125``."""
    if value is None:
        return None
    places = currency_places(currency)
    exponent = value.normalize().as_tuple().exponent
    shown = max(places, -exponent if isinstance(exponent, int) else places)
    return f"{value:.{shown}f}"


@extend_schema_field({"type": "string", "nullable": True, "example": "12.50"})
class AmountOut(serializers.Field):  # type: ignore[type-arg]
    """A row's amount in the row's own currency, as ``amount_text`` writes it (read-only).

    ``currency`` is the dotted path to the currency from the row (``"wallet.currency"``).
    """

    def __init__(self, *, currency: str = "currency", **kwargs: Any) -> None:
        self.currency_path = currency.split(".")
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return (super().get_attribute(instance), get_attribute(instance, self.currency_path))

    def to_representation(self, value: tuple[Decimal | None, str]) -> str | None:
        amount, currency = value
        return amount_text(amount, currency)


class AmountTextField(serializers.CharField):
    """A JSON string holding an amount; checked against its currency in ``parse_amount_field``.

    JSON numbers are refused: many clients write them through a float.
    """

    default_error_messages = {
        "not_text": 'Send the amount as a JSON string, for example "12.50".',
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", 'A decimal string, for example "12.50".')
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_text")
        return str(super().to_internal_value(data))


def parse_amount_field(
    attrs: dict[str, Any], name: str, currency: str, *, positive: bool = True
) -> Decimal | None:
    """Parse ``attrs[name]`` in ``currency``'s decimals, or raise a field error naming it."""
    text = attrs.get(name)
    if text is None:
        return None
    try:
        amount = parse_typed_amount(text, currency=currency, field="The amount")
    except InvalidAmount as exc:
        raise serializers.ValidationError({name: [str(exc)]}) from None
    if positive and amount <= 0:
        raise serializers.ValidationError({name: ["The amount must be more than zero."]})
    return amount


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Refuses fields it does not know: a misspelt ``amout`` must not be silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is not part of this request."] for name in unknown}
                )
        return super().to_internal_value(data)
