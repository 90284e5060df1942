"""JDB settings, read from ``django.conf.settings`` at call time (never cached at import).

Parsing a setting's text is cached by its value, so a changed setting (tests, a reload) is seen
at once while the hot path does not re-parse the same text on every request.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from providers.jdb.crypto import JdbKeyError, key_bytes
from wallet.services import SettledRoundPolicy

_ISO_4217_SHAPE = re.compile(r"[A-Z]{3}")


class UnknownCurrency(ValueError):
    """A currency code that is neither in ``JDB_CURRENCY_MAP`` nor shaped like an ISO code."""


def aes_key_and_iv() -> tuple[bytes, bytes]:
    """``JDB_AES_KEY`` and ``JDB_AES_IV`` as 16 bytes each (see ``providers.jdb.crypto``)."""
    try:
        return (
            key_bytes(getattr(settings, "JDB_AES_KEY", ""), name="JDB_AES_KEY"),
            key_bytes(getattr(settings, "JDB_AES_IV", ""), name="JDB_AES_IV"),
        )
    except JdbKeyError as exc:
        raise ImproperlyConfigured(str(exc)) from exc


def cancel_settled_policy() -> SettledRoundPolicy:
    """``JDB_CANCEL_SETTLED``: what Action 4 does to an applied Action 8 (keep or reverse)."""
    value = str(getattr(settings, "JDB_CANCEL_SETTLED", "keep") or "keep").strip().lower()
    try:
        return SettledRoundPolicy(value)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"JDB_CANCEL_SETTLED must be 'keep' or 'reverse', not {value!r}"
        ) from exc


def our_currency(jdb_code: str) -> str:
    """Our ISO currency for JDB's code: mapped by ``JDB_CURRENCY_MAP``, else passed through.

    Only a code shaped like ISO 4217 (three capital letters) passes through unmapped; anything
    else is refused, so a typo never reaches the wallet as a currency.
    """
    mapped = _currency_map(str(getattr(settings, "JDB_CURRENCY_MAP", "") or "")).get(jdb_code)
    if mapped is not None:
        return mapped
    if _ISO_4217_SHAPE.fullmatch(jdb_code):
        return jdb_code
    raise UnknownCurrency(f"unknown currency {jdb_code[:12]!r}")


@lru_cache(maxsize=8)
def _currency_map(text: str) -> dict[str, str]:
    """Parse ``RB:CNY,RM:MYR`` (spaces allowed around entries)."""
    mapping: dict[str, str] = {}
    for entry in text.split(","):
        if not entry.strip():
            continue
        jdb_code, sep, iso = (part.strip() for part in entry.partition(":"))
        if not sep or not jdb_code or not _ISO_4217_SHAPE.fullmatch(iso):
            raise ImproperlyConfigured(
                f"JDB_CURRENCY_MAP entry {entry.strip()!r} is not JDBCODE:ISO (e.g. RB:CNY)"
            )
        mapping[jdb_code] = iso
    return mapping
