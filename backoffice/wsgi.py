"""The WSGI application: provider callbacks through a lean handler, the rest through Django's.

Provider endpoints are called thousands of times a second and use nothing the admin's
middleware provides (sessions, users, CSRF, messages, static files, slash redirects): they are
JSON in, JSON out, authenticated by each provider's own signature, token or cipher. Sending
them through that middleware costs CPU for nothing (decision 0003). So requests under
``/providers/`` go to a second handler of the same project, same URLs and views, whose
middleware is ``PROVIDER_MIDDLEWARE``; Django's request signals (which recycle database
connections past ``CONN_MAX_AGE``) and its exception handling stay.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest
from django.urls import ResolverMatch, get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

PROVIDER_PREFIX = "/providers/"

StartResponse = Callable[..., Any]


class ProviderHandler(WSGIHandler):
    """Django's WSGI handler with ``PROVIDER_MIDDLEWARE`` instead of ``MIDDLEWARE``, and the
    provider endpoints' exact paths looked up in a table instead of resolved."""

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler reads settings.MIDDLEWARE; swap it for the time of the loading only.
        # This runs once, when the module is imported, before any request is served.
        site_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.PROVIDER_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site_middleware

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        # Django's resolver tries the URL patterns' regular expressions one by one on every
        # request; an endpoint's path is one of a few dozen exact strings. No provider
        # middleware sets a per-request URLconf, which would bypass this table.
        match = self._endpoint_matches.get(request.path_info)
        if match is None:
            return super().resolve_request(request)
        request.resolver_match = match
        return match

    @functools.cached_property
    def _endpoint_matches(self) -> dict[str, ResolverMatch]:
        """Every endpoint path, with and without its trailing slash, as Django resolves it."""
        from providers.registry import adapters

        resolver = get_resolver()
        matches = {}
        for slug, adapter in adapters().items():
            base = f"{PROVIDER_PREFIX}{slug}/"
            paths = (
                [base] if adapter.functions is None else [f"{base}{f}/" for f in adapter.functions]
            )
            for path in paths:
                for variant in (path, path[:-1]):
                    match = resolver.resolve(variant)
                    if match.url_name == f"{slug}-endpoint":  # never a catch-all pattern
                        matches[variant] = match
        return matches


#: The process environment's variables that a WSGI environ would read as request headers.
#: granian starts every request's environ from a copy of the server's process environment, so
#: a variable such as ``HTTP_PROXY`` (proxy credentials, often) would arrive as a "Proxy" header
#: the client never sent, be journaled, and be believed by any code reading headers: the
#: "httpoxy" shape. Read once, when a worker loads the application (granian copies the same).
_PROCESS_HEADERS = {
    name: value
    for name, value in os.environ.items()
    if name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH")
}


def without_process_headers(environ: dict[str, Any]) -> dict[str, Any]:
    """The environ without the headers that came from the process environment.

    A request that really sent one of them overrides the copy (granian merges the request's
    own values last); only a value equal to the process's own is taken out, so at worst a
    header that repeats the server's variable word for word is not seen.
    """
    for name, value in _PROCESS_HEADERS.items():
        if environ.get(name) == value:
            del environ[name]
    return environ


class SplitApplication:
    """Send provider callbacks to one handler and every other request to the other."""

    def __init__(self, providers: WSGIHandler, site: WSGIHandler) -> None:
        self.providers = providers
        self.site = site

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ = without_process_headers(environ)
        path = environ.get("PATH_INFO", "")
        # "//providers/jdb/" too: it is refused in the provider's format, never as an HTML page.
        if path.startswith(PROVIDER_PREFIX) or path.lstrip("/").startswith("providers/"):
            return _as_list(self.providers(environ, start_response))
        return self.site(environ, start_response)


def _as_list(response: Any) -> list[bytes]:
    """A provider answer's body as a one-item list, the response closed.

    A provider answer is a small JSON document already in memory. Handed over as Django's
    response object, granian iterates it chunk by chunk from Rust, holding the GIL while it
    hands each chunk to its writer: 17 % of a worker's GIL time during a cancel storm. As a list
    it takes the bytes in one call. Closing the response is what a server does after sending
    it (Django's ``request_finished``: database connections past their age are closed); here
    it happens just before the bytes go out, which changes nothing the provider sees.
    """
    try:
        return [b"".join(response)]
    finally:
        response.close()


_site = get_wsgi_application()  # sets Django up (apps, settings) before the second handler
application = SplitApplication(providers=ProviderHandler(), site=_site)
