from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from backoffice.metrics_endpoint import metrics
from providers.urls import odd_path


def health(request: HttpRequest) -> JsonResponse:
    """Load-balancer probe: the process answers and its database connection works."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    # The journal's admin pages moved with its model to the journal app; bookmarks and links
    # pasted into tickets keep working (querystring kept).
    re_path(
        r"^admin/providers/journalentry/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/journal/journalentry/%(rest)s", query_string=True),
        name="journal-old-admin",
    ),
    path("admin/", admin.site.urls),
    path("providers/", include("providers.urls")),
    path("api/v1/", include("operator_api.urls")),
    # "//providers/jdb/": the provider's own refusal, journaled (never Django's HTML 404).
    # ("[/]": a pattern starting "^/" reads to Django's checks as a slash left there by mistake.)
    re_path(r"^[/]+providers/(?P<rest>.*)$", odd_path, name="providers-odd-path"),
    path("health/", health, name="health"),
    # Prometheus, for the monitoring network only (backoffice/metrics_endpoint.py).
    path("metrics", metrics, name="metrics"),
]

# Error pages inside the admin's layout, with the reason; JSON under /providers/.
handler403 = "backoffice.error_pages.permission_denied"
handler404 = "backoffice.error_pages.page_not_found"
handler500 = "backoffice.error_pages.server_error"
