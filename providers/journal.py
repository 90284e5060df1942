"""Writing journal rows: redaction of secrets, then one INSERT.

The endpoint writes the row inside the money transaction when the request moved money and
succeeded (one commit per request), and in a transaction of its own otherwise, so that the row
survives whatever failed.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Field, JSONField
from django.utils import timezone

from journal.models import Direction, JournalEntry
from providers.base import InboundCall, ProviderAdapter, ProviderAnswer
from providers.wire import to_jsonable
from wallet.db import hot_sql

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-api-key", "x-auth-token"}
)
_KEPT_HEADERS_MAX = 40


_UNPREFIXED_HEADERS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})  # as Django's HttpHeaders


def redact_headers(headers: Any) -> dict[str, str]:
    """Headers (a mapping of names to values) as the journal keeps them: lower-case names,
    secrets masked, at most 40 headers of at most 500 characters."""
    kept: dict[str, str] = {}
    for name, value in list(headers.items())[:_KEPT_HEADERS_MAX]:
        lowered = name.lower()
        kept[lowered] = _kept_value(lowered, value)
    return kept


def request_headers(meta: Mapping[str, Any]) -> dict[str, str]:
    """``redact_headers(request.headers)``, read straight from the WSGI environ (``request.META``).

    Django's ``request.headers`` title-cases every name first, and the environ holds the server's
    whole process environment too (granian copies it in): 4 % of a cancel's instructions.
    """
    kept: dict[str, str] = {}
    for key, value in meta.items():
        if key.startswith("HTTP_") and key != "HTTP_":  # (Django skips an empty name too)
            name = key[5:]
        elif key in _UNPREFIXED_HEADERS:
            name = key
        else:
            continue
        lowered = name.replace("_", "-").lower()
        kept[lowered] = _kept_value(lowered, value)
        if len(kept) == _KEPT_HEADERS_MAX:
            break
    return kept


def _kept_value(lowered_name: str, value: Any) -> str:
    return REDACTED if lowered_name in SECRET_HEADERS else str(value)[:500]


#: Deeper than this, a payload is cut in the journal (the JSON reader refuses more than 32 levels;
#: a payload read some other way must still not make redaction or JSON writing recurse deeply).
MAX_PAYLOAD_DEPTH = 40
TRUNCATED = f"[truncated: nested deeper than {MAX_PAYLOAD_DEPTH} levels]"


def redact_payload(payload: Any, secret_fields: frozenset[str], depth: int = 0) -> Any:
    """A copy with the values of secret fields masked at any depth, and anything nested deeper
    than ``MAX_PAYLOAD_DEPTH`` replaced by ``TRUNCATED`` (the row is written whatever came)."""
    if depth >= MAX_PAYLOAD_DEPTH:
        return TRUNCATED if isinstance(payload, dict | list) else payload
    if isinstance(payload, dict):
        depth += 1
        return {
            k: (mask(v) if k in secret_fields else redact_payload(v, secret_fields, depth))
            for k, v in payload.items()
        }
    if isinstance(payload, list):
        depth += 1
        return [redact_payload(v, secret_fields, depth) for v in payload]
    return payload


def mask(value: Any) -> str:
    """Keep 4 characters so staff can tell two tokens apart, hide the rest."""
    text = str(value)
    return f"{text[:4]}…{REDACTED}" if len(text) > 8 else REDACTED


def write_inbound(
    adapter: ProviderAdapter,
    call: InboundCall,
    answer: ProviderAnswer,
    latency_us: int,
) -> None:
    """Journal a request in its own transaction; never raises (the answer stands).

    When the database dropped this connection (a restart, a failover: the request itself
    failed on it), the row is written once more on a new connection rather than lost.
    """
    for attempt in (1, 2):
        try:
            insert_inbound(adapter, call, answer, latency_us)
            return
        except Exception:  # the answer stands even if the journal cannot be written
            if attempt == 1 and _reconnected():
                continue
            log.exception("journal write failed for %s request %s", adapter.slug, call.request_id)
            return


def _reconnected() -> bool:
    """Replace a connection the database dropped (never inside a transaction)."""
    if connection.in_atomic_block or connection.connection is None or connection.is_usable():
        return False
    connection.close()
    return True


def insert_inbound(
    adapter: ProviderAdapter,
    call: InboundCall,
    answer: ProviderAnswer,
    latency_us: int,
) -> None:
    """INSERT the journal row of a request in the current transaction (raises on failure)."""
    hot_sql.execute(*inbound_insert(adapter, call, answer, latency_us))


def inbound_insert(
    adapter: ProviderAdapter,
    call: InboundCall,
    answer: ProviderAnswer,
    latency_us: int,
) -> tuple[str, list[Any]]:
    """The INSERT of a request's journal row and its parameters, secrets redacted.

    The endpoint sends it as the last statement of the money transaction when processing
    succeeded, so the movement and its journal row commit together.
    """
    draft = call.journal
    secret_fields = adapter.secret_fields
    return _insert(
        {
            "created_at": timezone.now(),
            "direction": Direction.INBOUND,
            "provider": adapter.slug,
            "action": draft.action[:64],
            "path": call.request.path[:255],
            "request_id": call.request_id,
            "client_ip": call.client_ip or None,
            "headers": request_headers(call.request.META),
            "payload": redact_payload(draft.payload, secret_fields),
            "body_bytes": len(call.body),
            # Answers can carry secrets too (a Buffalo ``check`` returns the new sid).
            "answer": redact_payload(answer.body, secret_fields),
            "http_status": answer.http_status,
            "latency_us": min(latency_us, 2**31 - 1),
            "outcome": (draft.outcome or answer.outcome)[:32],
            "error": (draft.error or answer.error)[:2000],
            "bet_key": draft.bet_key[:128],
            "account_id": draft.account_id[:64],
            "is_cancel": draft.is_cancel,
            "signature_form": draft.signature_form[:32],
        }
    )


Adapt = Callable[[Any], Any]


@functools.cache
def _insert_sql(vendor: str) -> tuple[str, tuple[str, ...], tuple[Adapt, ...]]:
    """The INSERT, the field names in its column order, and how to adapt each value."""
    fields = tuple(f for f in JournalEntry._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Only model metadata (quoted column names) is interpolated; values are parameters.
    sql = f"INSERT INTO {quote(JournalEntry._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    return sql, tuple(f.name for f in fields), tuple(_adapter(f, vendor) for f in fields)


def _adapter(field: Field[Any, Any], vendor: str) -> Adapt:
    """What ``field.get_db_prep_save`` does to this row's values, without its generic dispatch.

    Every value is first made ``storable``; JSON values (which may hold Decimals) also
    ``to_jsonable``. On PostgreSQL the journal's values need no more adapting but for JSON,
    which is sent as its document text (``json_document``; None stays SQL NULL, as Django
    stores it): psycopg binds text as a parameter of unknown type, which PostgreSQL reads as
    the column's ``jsonb``. The client IP is sent as text and cast by PostgreSQL too.
    Elsewhere, Django's own adaptation.
    """
    if vendor == "postgresql":
        if isinstance(field, JSONField):
            return _document
        return storable
    if isinstance(field, JSONField):
        return lambda value: _prepared_by_django(field, storable(to_jsonable(value)))
    return lambda value: _prepared_by_django(field, storable(value))


def _document(value: Any) -> str | None:
    return None if value is None else json_document(value)


def _prepared_by_django(field: Field[Any, Any], value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


def _insert(values: dict[str, Any]) -> tuple[str, list[Any]]:
    """One INSERT without the ORM's per-call compiling (the journal is on every request)."""
    sql, names, adapters = _insert_sql(connection.vendor)
    params = [adapt(values[name]) for name, adapt in zip(names, adapters, strict=True)]
    return sql, params


def json_document(value: Any) -> str:
    """The JSON text of ``storable(to_jsonable(value))``, made in one pass when it can be.

    A request's payload, answer and headers are JSON documents of every journal row: dumping
    them directly (Decimals written as their exact text, by ``default``) saves copying them
    twice first. The copies are still made when the text shows that they change something: a
    NUL (JSON writes it ``\\u0000``, which PostgreSQL refuses in JSONB) or a lone surrogate
    (which no encoding takes), or a value ``json`` cannot write as it stands.
    """
    try:
        document = _dumps(value, default=_exact_decimal)
    except (TypeError, ValueError):
        return _dumps(storable(to_jsonable(value)))
    if "\\u0000" in document or not (document.isascii() or _encodable(document)):
        return _dumps(storable(to_jsonable(value)))
    return document


_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def _exact_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")  # as to_jsonable writes it
    raise TypeError(f"{type(value).__name__} is not JSON")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(value: Any) -> Any:
    """A copy whose text every database can hold: NUL becomes U+FFFD, a lone surrogate "?".

    Hostile requests carry them (in a header, a URL segment, or a payload read leniently so
    that it can be journaled), and PostgreSQL refuses NUL in text and JSON columns: without
    this, exactly those requests would lose their journal row.
    """
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, dict):
        return {_storable_text(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def _storable_text(text: str) -> str:
    if "\x00" not in text:
        if text.isascii():
            return text
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return text
    # One character for one character: the caller has already cut the text to its column.
    cleaned = text.encode("utf-8", errors="replace").decode("utf-8")
    return cleaned.replace("\x00", "\ufffd")
