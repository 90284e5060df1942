"""The provider's IP allowlist (``<SLUG>_ALLOWED_IPS``) as a DRF permission."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from providers.network import ip_allowed
from providers.parsers import inbound_call


class ProviderAddressAllowed(BasePermission):
    """The caller's address (behind ``TRUSTED_PROXIES`` only) is on the provider's allowlist;
    an empty allowlist allows every address."""

    def has_permission(self, request: Request, view: Any) -> bool:
        call = inbound_call(request.parser_context)
        if ip_allowed(call.client_ip, view.adapter.allowlist()):
            return True
        self.message = f"address {call.client_ip} is not allowed"
        return False
