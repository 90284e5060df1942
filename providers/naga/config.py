"""Naga settings, read from ``django.conf.settings`` at call time (never cached at import).

Every ``NAGA_*`` setting is read here and nowhere else. Loading a key is cached by the setting's
value (``providers.naga.crypto``), so a changed setting is seen at once while the hot path does
not parse the same PEM on every request.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from providers import demo_keys
from providers.naga.crypto import load_public_key


def public_key() -> rsa.RSAPublicKey:
    """``NAGA_PUBLIC_KEY`` (PEM text or a path): the key Naga's signatures verify under.

    A missing or unusable key raises ``NagaKeyError``: our configuration, never the caller's.
    """
    return load_public_key(str(getattr(settings, "NAGA_PUBLIC_KEY", "") or ""))


def group_code() -> str:
    """``NAGA_GROUP_CODE``: the ``groupCode`` Naga must send us."""
    return _required("NAGA_GROUP_CODE")


def brand_code() -> str:
    """``NAGA_BRAND_CODE``: the ``brandCode`` Naga must send us."""
    return _required("NAGA_BRAND_CODE")


def client_private_key() -> str:
    """The key our own Naga client signs with (tests, ``provider_call``, load), or ``""``.

    ``NAGA_CLIENT_PRIVATE_KEY`` (PEM text or a path) for test and load rigs only, in production
    Naga holds its private key and we never sign; else, with ``DEMO_KEYS`` on, the published demo
    key.
    """
    source = str(getattr(settings, "NAGA_CLIENT_PRIVATE_KEY", "") or "")
    if not source and getattr(settings, "DEMO_KEYS", False):
        return demo_keys.NAGA_PRIVATE_KEY_PATH
    return source


def _required(name: str) -> str:
    value = str(getattr(settings, name, "") or "")
    if not value:
        raise ImproperlyConfigured(f"{name} is not configured")  # ours to fix: answered as 503
    return value
