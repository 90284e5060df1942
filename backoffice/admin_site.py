"""The admin site staff use: our titles, the support dashboard on the index, the extra pages of
``backoffice.admin_pages``, a login form that locks out repeated failures, and a second factor
(``backoffice.second_factor``) before any page."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver

from backoffice.login_throttle import ThrottledAdminAuthenticationForm
from backoffice.second_factor.rules import staff_is_verified


class BackofficeAdminSite(admin.AdminSite):
    site_header = "Operator back office"
    site_title = "Operator back office"
    index_title = "Support dashboard"
    login_form = ThrottledAdminAuthenticationForm
    # There is no public site to "view": the link led to a 404. The dashboard is "Home".
    site_url = None  # type: ignore[assignment]
    # The sidebar took 276 of a laptop's 1366 px from every list; breadcrumbs and the
    # dashboard's table list lead everywhere it did.
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff who finished signing in, second factor included. The middleware sends
        a password-only session to its code first; this holds if it is ever missing."""
        return super().has_permission(request) and staff_is_verified(request)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        from backoffice.admin_pages import admin_page_urls

        return [*admin_page_urls(self), *super().get_urls()]

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """The admin home page is the support dashboard (``backoffice.dashboard``)."""
        from backoffice.dashboard import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})
