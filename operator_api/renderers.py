"""``text/csv`` for the finance files: chosen by DRF's content negotiation (``Accept:
text/csv`` or ``?format=csv``); the view streams the file itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        raise NotImplementedError("CSV answers are streamed by the view, never rendered")
