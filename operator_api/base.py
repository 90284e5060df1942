"""What every operator API view shares: who may call (API key or staff session), what they
need (``required_permissions``), JSON in and out, errors as JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from operator_api.authentication import ApiKeyAuthentication, StaffSessionAuthentication
from operator_api.exceptions import api_exception_handler
from operator_api.parsers import BoundedJSONParser
from operator_api.permissions import ActionPermissions


class OperatorApiView(GenericAPIView):  # type: ignore[type-arg]
    authentication_classes = [ApiKeyAuthentication, StaffSessionAuthentication]
    permission_classes = [ActionPermissions]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]
    #: HTTP method -> the Django permissions a caller needs (the admin's, for the same thing).
    required_permissions: ClassVar[dict[str, tuple[str, ...]]] = {}

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response]:
        return api_exception_handler  # type: ignore[return-value]
