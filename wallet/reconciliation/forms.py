"""The finance pages' forms: the shared filter, and the statement upload with its mapping."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

from wallet.forms import AmountField
from wallet.models import Provider
from wallet.reconciliation.diff import DiffOptions, SignConvention, parse_status_words
from wallet.reconciliation.filters import DateBasis, ReconciliationFilter
from wallet.reconciliation.statement import DELIMITERS, MAX_CELL_CHARS, ColumnMapping
from wallet.reconciliation.uploads import statement_max_bytes

_CURRENCY = re.compile(r"^[A-Z0-9]{2,10}$")

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FilterForm(forms.Form):
    """Provider, currency and a range of UTC days, by movement time or by settle time."""

    provider = forms.ChoiceField(choices=[("", "All providers"), *Provider.choices], required=False)
    currency = forms.CharField(
        max_length=10, required=False, help_text="ISO code, e.g. USD; blank: all currencies."
    )
    date_from = forms.DateField(
        label="First day (UTC)", required=False, widget=DATE_INPUT, input_formats=["%Y-%m-%d"]
    )
    date_to = forms.DateField(
        label="Last day (UTC, included)",
        required=False,
        widget=DATE_INPUT,
        input_formats=["%Y-%m-%d"],
    )
    basis = forms.ChoiceField(
        label="Days by",
        choices=[
            (DateBasis.CREATED.value, "when the money moved (created)"),
            (DateBasis.SETTLED.value, "when the bet was settled or cancelled (settled)"),
        ],
        initial=DateBasis.CREATED.value,
        required=False,
    )

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if currency and not _CURRENCY.match(currency):
            raise forms.ValidationError("A currency is 2 to 10 letters or digits, e.g. USD.")
        return currency

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            raise forms.ValidationError("The first day is after the last day.")
        return data

    def selection(self) -> ReconciliationFilter:
        data = self.cleaned_data
        return ReconciliationFilter(
            provider=data.get("provider") or "",
            currency=data.get("currency") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            basis=DateBasis(data.get("basis") or DateBasis.CREATED.value),
        )


class ExportForm(FilterForm):
    bom = forms.BooleanField(
        label="Start with a UTF-8 byte-order mark (Excel needs it to read UTF-8)",
        required=False,
        initial=True,
    )


class DiffForm(FilterForm):
    """A statement file, how to read it, and the period and provider it covers."""

    statement = forms.FileField(help_text="The provider's statement, as a CSV file.")
    tx_id_column = forms.CharField(
        label="Transaction id column",
        required=False,
        help_text="Header name or number (1 = first column); blank: guess.",
    )
    amount_column = forms.CharField(label="Amount column", required=False)
    status_column = forms.CharField(label="Status column", required=False)
    delimiter = forms.ChoiceField(
        choices=[("", "recognise"), *[(key, key) for key in DELIMITERS]], required=False
    )
    decimal_separator = forms.ChoiceField(
        choices=[(".", "point: 1,234.50"), (",", "comma: 1.234,50")], initial="."
    )
    sign = forms.ChoiceField(
        label="Their amounts are",
        choices=[
            (SignConvention.PLAYER.value, "signed for the player (a stake is negative), as ours"),
            (SignConvention.OPERATOR.value, "signed for the operator (a stake is positive)"),
            (SignConvention.UNSIGNED.value, "unsigned (compare absolute amounts)"),
        ],
        initial=SignConvention.PLAYER.value,
    )
    tolerance = AmountField(
        label="Amount tolerance",
        initial="0",
        required=False,
        help_text="0: exact. E.g. 0.01 (or 0,01) when the statement rounds to cents.",
    )
    status_words = forms.CharField(
        label="Extra status words",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text="One per line: their word = open, settled or cancelled.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A statement is compared with one provider over a closed period.
        provider = self.fields["provider"]
        assert isinstance(provider, forms.ChoiceField)
        provider.required = True
        provider.choices = [("", "---------"), *Provider.choices]
        self.fields["date_from"].required = True
        self.fields["date_to"].required = True
        # The limits, said where the file is chosen (the size is a setting, read per request).
        self.fields["statement"].help_text = (
            f"The provider's statement, as a CSV file of at most "
            f"{statement_max_bytes() / (1024 * 1024):.1f} MB ({statement_max_bytes():,} bytes). "
            f"A line with a cell longer than {MAX_CELL_CHARS:,} characters, or an amount it "
            "cannot read, is listed as unreadable."
        )

    def clean_currency(self) -> str:
        currency = super().clean_currency()
        # The tolerance, cleaned after this, is typed in the statement's currency.
        tolerance = self.fields["tolerance"]
        assert isinstance(tolerance, AmountField)
        tolerance.currency = currency or "USD"
        return currency

    def clean_status_words(self) -> dict[str, str]:
        try:
            return parse_status_words(self.cleaned_data.get("status_words") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def mapping(self) -> ColumnMapping:
        data = self.cleaned_data
        return ColumnMapping(
            tx_id=data.get("tx_id_column") or "",
            amount=data.get("amount_column") or "",
            status=data.get("status_column") or "",
        )

    def delimiter_char(self) -> str:
        return DELIMITERS.get(self.cleaned_data.get("delimiter") or "", "")

    def options(self) -> DiffOptions:
        data = self.cleaned_data
        return DiffOptions(
            sign=SignConvention(data["sign"]),
            tolerance=data.get("tolerance") or Decimal(0),
            extra_status_words=data.get("status_words") or {},
        )
