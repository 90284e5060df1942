"""The OpenAPI schema and its Swagger UI, for callers the API would let in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from operator_api.authentication import ApiKeyAuthentication, StaffSessionAuthentication

AUTHENTICATION = [ApiKeyAuthentication, StaffSessionAuthentication]


class SchemaView(SpectacularAPIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]


class DocsView(SpectacularSwaggerView):
    """Swagger UI; a browser that is not signed in is sent to the admin's login first."""

    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if "HTTP_AUTHORIZATION" not in request.META and not (user and user.is_staff):
            return redirect_to_login(request.get_full_path(), "admin:login")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]
