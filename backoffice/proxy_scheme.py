"""``X-Forwarded-Proto`` believed only from our own proxies (``TRUSTED_PROXIES``).

Django's ``SECURE_PROXY_SSL_HEADER`` believes the header from whoever sends it, so a client on
plain HTTP that says ``X-Forwarded-Proto: https`` is treated as on HTTPS: no redirect to HTTPS,
and the admin's secure cookies and CSRF checks run over plain HTTP. This middleware takes the
header only when the direct peer is one of our proxies, and then only the value the nearest
proxy wrote (the last one: a proxy that appends keeps the client's own value in front).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from providers.network import from_trusted_proxy


class TrustedProxySchemeMiddleware:
    """Sets the request's scheme to https when a trusted proxy says the client used it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        meta = request.META
        forwarded = meta.get("HTTP_X_FORWARDED_PROTO")
        if (
            forwarded is not None
            and forwarded.rsplit(",", 1)[-1].strip().lower() == "https"
            and from_trusted_proxy(meta.get("REMOTE_ADDR", ""), tuple(settings.TRUSTED_PROXIES))
        ):
            # request.scheme reads the WSGI environ, which META is.
            meta["wsgi.url_scheme"] = "https"
        return self.get_response(request)
