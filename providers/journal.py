"""Writing journal rows: redaction of secrets, then one INSERT outside any money transaction."""

from __future__ import annotations

import logging
from typing import Any

from providers.base import InboundCall, ProviderAnswer
from providers.models import Direction, JournalEntry
from providers.wire import to_jsonable

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-api-key", "x-auth-token"}
)
_KEPT_HEADERS_MAX = 40


def redact_headers(headers: Any) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in list(headers.items())[:_KEPT_HEADERS_MAX]:
        lowered = name.lower()
        kept[lowered] = REDACTED if lowered in SECRET_HEADERS else str(value)[:500]
    return kept


def redact_payload(payload: Any, secret_fields: frozenset[str]) -> Any:
    """A copy with the values of secret fields masked, at any depth."""
    if isinstance(payload, dict):
        return {
            k: (mask(v) if k in secret_fields else redact_payload(v, secret_fields))
            for k, v in payload.items()
        }
    if isinstance(payload, list):
        return [redact_payload(v, secret_fields) for v in payload]
    return payload


def mask(value: Any) -> str:
    """Keep 4 characters so staff can tell two tokens apart, hide the rest."""
    text = str(value)
    return f"{text[:4]}…{REDACTED}" if len(text) > 8 else REDACTED


def write_inbound(
    call: InboundCall,
    answer: ProviderAnswer,
    *,
    provider: str,
    secret_fields: frozenset[str],
    latency_us: int,
) -> None:
    draft = call.journal
    try:
        JournalEntry.objects.create(
            direction=Direction.INBOUND,
            provider=provider,
            action=draft.action[:64],
            path=call.request.path[:255],
            request_id=call.request_id,
            client_ip=call.client_ip or None,
            headers=redact_headers(call.request.headers),
            payload=to_jsonable(redact_payload(draft.payload, secret_fields)),
            body_bytes=len(call.body),
            # Answers can carry secrets too (a Buffalo ``check`` returns the new sid).
            answer=to_jsonable(redact_payload(answer.body, secret_fields)),
            http_status=answer.http_status,
            latency_us=min(latency_us, 2**31 - 1),
            outcome=(draft.outcome or answer.outcome)[:32],
            error=draft.error[:2000],
            bet_key=draft.bet_key[:128],
            account_id=draft.account_id[:64],
            is_cancel=draft.is_cancel,
            signature_form=draft.signature_form[:32],
        )
    except Exception:  # the answer stands even if the journal cannot be written
        log.exception("journal write failed for %s request %s", provider, call.request_id)
