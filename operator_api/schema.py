"""drf-spectacular hooks: only ``/api/v1/`` is described, and how its callers authenticate."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

API_PREFIX = "/api/v1/"


def only_operator_api(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """The provider callbacks are DRF views too, but providers have their own contracts
    (docs/providers/): leave them out of this schema."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(API_PREFIX)]


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "operator_api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, the key printed by `manage.py api_key_create`.",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "operator_api.authentication.StaffSessionAuthentication"
    name = "StaffSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A staff member signed in to the admin (CSRF token required on writes).",
        }
