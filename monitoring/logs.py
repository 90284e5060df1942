"""JSON log lines (``LOG_FORMAT=json``) and the one line each provider request writes.

The formatter is python-json-logger's: every record becomes one JSON object with its time,
level, logger and message, plus the fields passed in ``extra``. The request line carries only
what the journal row shows staff (ids, outcome, latency): never the body, headers or query
string, which may hold a provider's token.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

request_log = logging.getLogger("providers.requests")


class JsonFormatter(_LibraryJsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level"})
        super().__init__(*args, **kwargs)


def log_request(
    *,
    request_id: str,
    provider: str,
    action: str,
    bet_key: str,
    outcome: str,
    latency_us: int,
) -> None:
    """One line per provider request, when the logger is on (``LOG_FORMAT=json``)."""
    if not request_log.isEnabledFor(logging.INFO):
        return
    request_log.info(
        "%s %s %s",
        provider,
        action,
        outcome,
        extra={
            "request_id": request_id,
            "provider": provider,
            "action": action,
            "bet_key": bet_key,
            "outcome": outcome,
            "latency_ms": round(latency_us / 1000, 3),
        },
    )
