"""JSON bodies, bounded: the operator API never needs more than a few hundred bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser (strict: no NaN or Infinity) behind a size limit,
    ``OPERATOR_API_MAX_BODY_BYTES``, checked before anything is read."""

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit: int = settings.OPERATOR_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise ParseError(
                f"The body is {int(declared):,} bytes; this API accepts at most {limit:,}."
            )
        return super().parse(stream, media_type, parser_context)
