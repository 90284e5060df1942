"""Buffalo settings, read from ``django.conf.settings`` at call time (never cached at import).

Every ``BUFFALO_*`` setting is read here and nowhere else, so a token rotation or a test's
override is seen by the next request.
"""

from __future__ import annotations

from django.conf import settings


def auth_token() -> str:
    """``BUFFALO_AUTH_TOKEN``: the static token Buffalo sends; empty refuses every request."""
    return str(getattr(settings, "BUFFALO_AUTH_TOKEN", "") or "")


def sid_method_enabled() -> bool:
    """``BUFFALO_SID_METHOD_ENABLED``: whether ``/sid`` is served (off in production)."""
    return bool(getattr(settings, "BUFFALO_SID_METHOD_ENABLED", False))
