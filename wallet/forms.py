"""The form field for money a person types: one parser for every such amount in the admin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from wallet.money import InvalidAmount, currency_places, parse_typed_amount


class AmountField(forms.Field):
    """An amount in ``currency``, parsed by ``parse_typed_amount`` (``0,50`` is fifty cents).

    The currency may be set after the form is built (``field.currency = ...``) when it depends
    on the object the form is about. ``allow_zero`` false refuses 0.
    """

    widget = forms.TextInput

    def __init__(self, *, currency: str = "USD", allow_zero: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.currency = currency
        self.allow_zero = allow_zero

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs["inputmode"] = "decimal"
        attrs["maxlength"] = "40"
        attrs["autocomplete"] = "off"
        return attrs

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values and not self.required:
            return None
        try:
            amount = parse_typed_amount(str(value), currency=self.currency, field="The amount")
        except InvalidAmount as exc:
            raise forms.ValidationError(f"{exc}.", code="invalid_amount") from exc
        if amount == 0 and not self.allow_zero:
            raise forms.ValidationError("The amount must be more than 0.", code="zero")
        return amount

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            places = currency_places(self.currency)
            return f"{value:.{places}f}"
        return value
