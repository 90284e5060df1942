"""VP settings, read from ``django.conf.settings`` at call time (never cached at import).

Every ``VP_*`` setting is read here and nowhere else, so a changed setting (tests, a reload) is
seen at once and a bad one is refused with its name.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from providers.vp.crypto import VpCryptoError, vp_key
from wallet.services import SettledRoundPolicy


class NotConfigured(Exception):
    """A setting the calls we make to VP need is missing or unusable (the message names it)."""


@dataclass(frozen=True)
class ApiSettings:
    """What the client of VP's operator-card API needs (``providers.vp.api_client``)."""

    base_url: str
    agent_id: str
    api_key: bytes
    secret: str
    timeouts: tuple[float, float]


def agent_id() -> str:
    """``VP_AGENT_ID``: our agent id, in VP's signature headers."""
    return str(getattr(settings, "VP_AGENT_ID", "") or "")


def api_key() -> bytes:
    """``VP_API_KEY`` as the 32-byte AES-256-GCM key of every body, both directions."""
    try:
        return vp_key(_api_key_hex())
    except VpCryptoError as exc:  # our configuration, not VP's request
        raise ImproperlyConfigured(str(exc)) from exc


def rollback_settled_policy() -> SettledRoundPolicy:
    """``VP_ROLLBACK_SETTLED``: what a rollback does to a settled round (keep or reverse)."""
    value = str(getattr(settings, "VP_ROLLBACK_SETTLED", "keep") or "keep").strip().lower()
    try:
        return SettledRoundPolicy(value)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"VP_ROLLBACK_SETTLED must be 'keep' or 'reverse', not {value!r}"
        ) from exc


def timeouts() -> tuple[float, float]:
    """``VP_CONNECT_TIMEOUT`` and ``VP_READ_TIMEOUT``, in seconds, for each call to VP."""
    return (float(settings.VP_CONNECT_TIMEOUT), float(settings.VP_READ_TIMEOUT))


def api_settings() -> ApiSettings:
    """Everything the operator-card client needs, or ``NotConfigured`` naming what is missing.

    A missing setting is not an exception to crash on: the card pages answer "not configured"
    while the callbacks, which need none of ``VP_BASE_URL`` and ``VP_SECRET_KEY``, keep working.
    """
    base_url = str(getattr(settings, "VP_BASE_URL", "") or "").rstrip("/")
    secret = str(getattr(settings, "VP_SECRET_KEY", "") or "")
    missing = [
        name
        for name, value in (
            ("VP_BASE_URL", base_url),
            ("VP_AGENT_ID", agent_id()),
            ("VP_API_KEY", _api_key_hex()),
            ("VP_SECRET_KEY", secret),
        )
        if not value
    ]
    if missing:
        raise NotConfigured(f"{', '.join(missing)} not set")
    try:
        key = vp_key(_api_key_hex())
    except VpCryptoError as exc:
        raise NotConfigured(str(exc)) from exc
    return ApiSettings(base_url, agent_id(), key, secret, timeouts())


def _api_key_hex() -> str:
    return str(getattr(settings, "VP_API_KEY", "") or "")
