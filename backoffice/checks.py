"""Deployment checks (``manage.py check --deploy``): no demo keys, well-formed provider secrets."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def provider_secrets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if settings.DEMO_KEYS:
        messages.append(
            Error(
                "DEMO_KEYS is on: providers accept the published demo keys.",
                hint="Set DEMO_KEYS=false and every provider secret in the environment.",
                id="backoffice.E001",
            )
        )
    for name, length in (("JDB_AES_KEY", 16), ("JDB_AES_IV", 16)):
        value = getattr(settings, name, "")
        if value and len(value.encode()) != length:
            messages.append(Error(f"{name} must be {length} bytes.", id="backoffice.E002"))
    vp_key = getattr(settings, "VP_API_KEY", "")
    if vp_key:
        try:
            ok = len(bytes.fromhex(vp_key)) == 32
        except ValueError:
            ok = False
        if not ok:
            messages.append(
                Error("VP_API_KEY must be 64 hexadecimal characters.", id="backoffice.E003")
            )
    if not settings.TRUSTED_PROXIES:
        messages.append(
            Warning(
                "TRUSTED_PROXIES is empty: behind a load balancer every caller would appear "
                "as the balancer, and provider IP allowlists could not work.",
                hint="Set TRUSTED_PROXIES to the load balancers' addresses (or 127.0.0.1 "
                "when nginx runs on the same host).",
                id="backoffice.W001",
            )
        )
    return messages
