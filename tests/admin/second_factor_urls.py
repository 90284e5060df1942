"""The site's URLs plus one DRF view signed in by session, as the operator API's staff views
are: what a password-only session meets outside the admin."""

from typing import Any

from django.urls import path
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.second_factor.rules import staff_is_verified
from backoffice.urls import handler403, handler404, handler500
from backoffice.urls import urlpatterns as site_patterns


class SessionProbe(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"verified": staff_is_verified(request._request)})


urlpatterns: list[Any] = [*site_patterns, path("api-probe/", SessionProbe.as_view())]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
