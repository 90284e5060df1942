"""drf-spectacular hooks: only ``/api/v1/`` is described, and how its callers authenticate."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

API_PREFIX = "/api/v1/"


ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "code": {"type": "string", "description": "A stable word for programs."},
    },
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "DRF's field errors: each field (or `non_field_errors`, or the "
    "`Idempotency-Key` header) with its messages; or `detail` for an unreadable body.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
ERROR_MEANINGS = {
    "400": "Bad input; nothing changed.",
    "401": "No key, or an unknown, revoked or expired one.",
    "403": "The caller's role may not do this (the message names the permission).",
    "404": "Not found.",
    "409": "Refused for good; nothing changed. `detail` says why.",
    "503": "Busy right now; nothing changed. Retry with the same Idempotency-Key.",
}


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


def describe_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation answers 401 and 403, and every error has a body: ``{detail, code}``,
    or field errors for a 400. One place, so that no view can forget one."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR
    components["FieldErrors"] = FIELD_ERRORS
    for item in result.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for code in ("401", "403"):
                responses.setdefault(code, {})
            for code, response in responses.items():
                if code not in ERROR_MEANINGS or response.get("content"):
                    continue
                schema = "FieldErrors" if code == "400" else "Error"
                response["description"] = response.get("description") or ERROR_MEANINGS[code]
                response["content"] = {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                }
    return result


MONEY_PATHS = ("/deposits/", "/withdrawals/", "/adjustments/")


def describe_idempotency(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The ``Idempotency-Key`` header on every POST; required where money moves."""
    for path, item in result.get("paths", {}).items():
        operation = item.get("post")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": path.endswith(MONEY_PATHS),
                "schema": {"type": "string", "maxLength": 255},
                "description": "Your unique id for this request: a retry with the same key "
                "and body gets the first answer again and changes nothing.",
            }
        )
    return result
