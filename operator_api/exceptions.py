"""Every failure as JSON ``{"detail": ...}`` (or DRF's field errors), never an HTML page."""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's handler first; a database that is busy (a lock wait past its limit) is a 503 to
    retry; anything else is logged and a JSON 500. A failed request changed nothing: each
    change runs in one transaction."""
    response = exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, OperationalError):
        return Response(
            {
                "detail": "The database is busy with this player or bet right now; nothing "
                "was changed. Retry in a second (with the same Idempotency-Key).",
                "code": "busy",
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    logger.exception("operator API: unexpected error", exc_info=exc)
    return Response(
        {"detail": "Internal error; it is logged. Nothing was changed.", "code": "error"},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
