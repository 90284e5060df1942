"""``Idempotency-Key``: a retried POST gets the first answer again and changes nothing.

The key's row is inserted in the same transaction as the change it guards. A concurrent
request with the same key waits on the row's unique index until the first commits, then
replays its answer; if the first rolled back, the second does the work itself. Answers that
are final (done, or refused for good: 409) are kept; a transient failure (a lock wait, a
database error) rolls the row back with everything else, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from operator_api.models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Answer:
    """What a request came to: kept as JSON under its key when the request carried one."""

    status: int
    data: Any


class KeyReused(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_reused"


class _Replay(Exception):
    pass


def _key_of(request: Request, *, required: bool) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise ValidationError(
                {
                    HEADER: [
                        "This request moves money: send an Idempotency-Key header (a unique "
                        "string of your own, for example a UUID) so that a retry cannot move "
                        "it twice."
                    ]
                }
            )
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            {HEADER: [f"The key must be 1 to {MAX_KEY_LENGTH} printable characters."]}
        )
    return key


def fingerprint(request: Request) -> str:
    """SHA-256 of the method, the path and the body as canonical JSON (key order ignored)."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def _as_json(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


def respond_once(
    request: Request, work: Callable[[], Answer], *, required: bool = False
) -> Response:
    """Run ``work`` (one transaction with the key's row) or replay the answer kept for the
    request's ``Idempotency-Key``. ``required``: refuse the request without a key (400)."""
    key = _key_of(request, required=required)
    if key is None:
        with transaction.atomic():
            answer = work()
        return Response(answer.data, status=answer.status)
    print_ = fingerprint(request)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(
                        owner=request.user,
                        key=key,
                        method=request.method or "",
                        path=request.path[:255],
                        fingerprint=print_,
                    )
            except IntegrityError:
                raise _Replay from None
            answer = work()
            record.status_code = answer.status
            record.response = _as_json(answer.data)
            record.save(update_fields=["status_code", "response"])
    except _Replay:
        return _replay(request, key, print_)
    return Response(answer.data, status=answer.status)


def _replay(request: Request, key: str, print_: str) -> Response:
    record = IdempotentRequest.objects.get(owner=request.user, key=key)
    if record.fingerprint != print_:
        raise KeyReused(
            f"This Idempotency-Key was first used for {record.method} {record.path} with another "
            f"body, at {record.created_at:%Y-%m-%d %H:%M:%S %Z}. Nothing was done. Use a new "
            "key for a new request."
        )
    if record.status_code is None:
        raise KeyReused("A request with this Idempotency-Key is still running; retry shortly.")
    return Response(record.response, status=record.status_code, headers={REPLAYED_HEADER: "true"})


def respond_once_outside_transaction(request: Request, work: Callable[[], Answer]) -> Response:
    """The same contract for work that calls another system (VP) and so must not run inside
    a database transaction: the key's row is committed first as "running", the answer stored
    after. A retry meanwhile gets 409 "still running"; a failure frees the key."""
    key = _key_of(request, required=False)
    if key is None:
        answer = work()
        return Response(answer.data, status=answer.status)
    print_ = fingerprint(request)
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(
                owner=request.user,
                key=key,
                method=request.method or "",
                path=request.path[:255],
                fingerprint=print_,
            )
    except IntegrityError:
        return _replay(request, key, print_)
    try:
        answer = work()
    except BaseException:
        record.delete()
        raise
    record.status_code = answer.status
    record.response = _as_json(answer.data)
    record.save(update_fields=["status_code", "response"])
    return Response(answer.data, status=answer.status)
