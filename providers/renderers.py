"""The provider's answer as JSON with exact decimals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

from providers.wire import dumps


class ProviderJSONRenderer(BaseRenderer):
    """``Decimal`` written as its exact text (``12.50``), never through float; no charset
    parameter, as the providers' own examples answer ``application/json``."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return dumps(data).encode("utf-8")
