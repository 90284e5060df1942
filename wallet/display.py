"""How the back office shows times, amounts and codes to staff: one format for every page.

Times read ``2026-12-06 18:40:12 UTC`` everywhere (lists, detail pages, the dashboard), amounts
carry their currency and that currency's decimals (``3.10 USD``, ``1500 JPY``), and codes such
as ``cancel_and_refund`` read as words. Admin classes get the time format on every date column
and read-only date field through ``UtcTimesMixin`` instead of one display method per column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from wallet.money import currency_places

DASH = "\u2013"  # shown for "no value"
#: The one time format of the back office (Python strftime), always in UTC.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
#: The same for the template ``date`` filter (``T`` is the zone's name, UTC here).
TEMPLATE_TIME_FORMAT = "Y-m-d H:i:s T"


def when(value: datetime | None) -> str:
    """A moment as staff read it, with seconds and the zone; a dash for none."""
    if value is None:
        return DASH
    if value.tzinfo is None:  # naive values are UTC in this project (USE_TZ, TIME_ZONE=UTC)
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(TIME_FORMAT)


#: What staff may type for a moment: the format times are shown in, "T" for the space, and "Z"
#: or "UTC" for the zone; always UTC.
_TYPED_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def parse_staff_time(text: str) -> datetime:
    """A moment typed by staff, in UTC: ``2026-12-31 23:59:59`` (as the pages show times, with
    or without `` UTC``). Raises ``ValueError`` with an example otherwise."""
    typed = text.strip().replace("T", " ").removesuffix("Z").removesuffix("UTC").strip()
    for pattern in _TYPED_TIME_FORMATS:
        try:
            return datetime.strptime(typed, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"{text.strip()[:40]!r} is not a moment: type it as 2026-12-31 23:59:59 (UTC)")


def amount_text(amount: Decimal | str | int | None, currency: str = "") -> str:
    """An amount with the currency's decimals (a default of 2), then the currency code.

    Digits beyond the currency's decimals are kept when they are not zero: an amount is never
    shown rounded, because support compares these figures with the provider's.
    """
    if amount is None or amount == "":
        return DASH
    value = Decimal(str(amount))
    places = currency_places(currency) if currency else 2
    exponent = value.normalize().as_tuple().exponent
    shown = max(places, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    text = f"{value:.{shown}f}"
    return f"{text} {currency}".strip()


def signed_amount_text(amount: Decimal, currency: str = "") -> str:
    return ("+" if amount > 0 else "") + amount_text(amount, currency)


def code_words(code: str) -> str:
    """``cancel_and_refund`` -> "Cancel and refund": a code staff never have to decode."""
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else DASH


# --- admin: the one time format on every list column and read-only field -------------------


def _is_time_field(model: type[models.Model], name: Any) -> bool:
    if not isinstance(name, str):
        return False
    try:
        field = model._meta.get_field(name)
    except Exception:  # not a model field (a method or a callable): not ours to format
        return False
    return isinstance(field, models.DateTimeField)


class UtcTimesMixin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shows every date-time model field in the back office's format, in lists and detail.

    Django formats them by locale ("Dec. 6, 2026, 6:40 p.m.": minutes only, no zone). Each
    date-time name in ``list_display`` and in the read-only fields of a detail page is replaced
    by a column that formats it with ``when``, keeping its label and its sorting.
    """

    def _time_column(self, name: str) -> Callable[[Any], str]:
        columns: dict[str, Callable[[Any], str]] = self.__dict__.setdefault("_time_columns", {})
        if name not in columns:
            field = self.model._meta.get_field(name)
            label = str(getattr(field, "verbose_name", name))

            def column(obj: Any) -> str:
                return when(getattr(obj, name))

            column.__name__ = f"{name}_shown"
            columns[name] = admin.display(description=label, ordering=name)(column)
        return columns[name]

    def _with_times(self, names: Sequence[Any], readonly: set[Any] | None = None) -> list[Any]:
        shown: list[Any] = []
        for name in names:
            if _is_time_field(self.model, name) and (readonly is None or name in readonly):
                name = self._time_column(name)
            if name not in shown:
                shown.append(name)
        return shown

    def _time_fields(self) -> list[str]:
        return [f.name for f in self.model._meta.fields if isinstance(f, models.DateTimeField)]

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._with_times(super().get_list_display(request))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The formatted columns are read-only fields, so that a detail page may show them.
        own = list(super().get_readonly_fields(request, obj))
        return own + [self._time_column(name) for name in self._time_fields()]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        return self._with_times(fields, self._shown_read_only(request, obj))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        readonly = self._shown_read_only(request, obj)
        return [
            (title, {**options, "fields": self._with_times(options["fields"], readonly)})
            for title, options in fieldsets
        ]

    def _shown_read_only(self, request: HttpRequest, obj: Any) -> set[Any]:
        """The date-time names shown read-only on this page (all of them on a view-only page)."""
        if obj is not None and not self.has_change_permission(request, obj):
            return set(self._time_fields())
        declared = set(super().get_readonly_fields(request, obj))
        editable = {f.name for f in self.model._meta.fields if f.editable}
        return {name for name in self._time_fields() if name in declared or name not in editable}
