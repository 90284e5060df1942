"""The 403, 404 and 500 pages of the back office: inside the admin's layout, with the reason
and a way back to the dashboard. Provider paths keep answering JSON, never these pages.

Django calls these through ``handler403``/``handler404``/``handler500`` (``backoffice.urls``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

PROVIDER_PREFIX = "/providers/"
DEFAULT_REASONS = {
    403: "Your role does not allow this page.",
    404: "There is nothing at this address: the link may be old, or the row may not exist.",
    500: "Something went wrong on our side. Nothing was changed by this page; try again, and "
    "tell the engineers if it keeps happening.",
}
TITLES = {403: "Not allowed", 404: "Page not found", 500: "Server error"}


def _is_provider_call(request: HttpRequest) -> bool:
    return request.path.startswith(PROVIDER_PREFIX)


def _site_context(request: HttpRequest, *, with_database: bool) -> dict[str, Any]:
    """The admin's header and user links; on a 500 nothing that needs the database."""
    from django.contrib import admin

    site = admin.site
    context: dict[str, Any] = {
        "site_header": site.site_header,
        "site_title": site.site_title,
        "site_url": site.site_url,
        "has_permission": False,
    }
    if not with_database:
        return context
    try:
        context.update(site.each_context(request))
    except Exception:  # the error page must render even when the site's context cannot be read
        logger.exception("error page: the admin context could not be built")
    return context


def _page(request: HttpRequest, status: int, reason: str, *, with_database: bool = True) -> Any:
    if _is_provider_call(request):
        return JsonResponse({"error": TITLES[status].lower()}, status=status)
    context = {
        **_site_context(request, with_database=with_database),
        "title": TITLES[status],
        "status": status,
        "reason": reason or DEFAULT_REASONS[status],
    }
    template = loader.get_template(f"{status}.html")
    return HttpResponse(template.render(context, request), status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The reason given to PermissionDenied ("Finance reconciliation needs the Finance role.").
    reason = str(exception) if exception is not None and exception.args else ""
    return _page(request, 403, reason)  # type: ignore[no-any-return]


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Http404's own text is for engineers ("No Bet matches the given query."): shown only when
    # it was written for people, which the views here do by ending it with a full stop.
    text = str(exception) if exception is not None and exception.args else ""
    reason = text if text.endswith(".") and "matches the given query" not in text else ""
    return _page(request, 404, reason)  # type: ignore[no-any-return]


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500, "", with_database=False)  # type: ignore[no-any-return]
