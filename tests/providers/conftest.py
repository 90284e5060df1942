"""Fixtures for driving provider endpoints through the full Django request path."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from providers.client_base import SignedRequest
from providers.models import JournalEntry


class Sent:
    """A response as the provider sees it: HTTP status and the parsed JSON (Decimals exact)."""

    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        self.status = status
        self.raw = body
        self.content_type = content_type
        self.json: Any = json.loads(body, parse_float=Decimal) if body else None

    def __repr__(self) -> str:
        return f"<Sent {self.status} {self.raw[:300]!r}>"


@pytest.fixture
def send(client: Client) -> Callable[..., Sent]:
    """POST a SignedRequest (or raw pieces) and return what came back; asserts it is JSON."""

    def _send(
        signed: SignedRequest, *, remote_addr: str = "127.0.0.1", **extra_headers: str
    ) -> Sent:
        headers = {**signed.headers, **extra_headers}
        response = client.generic(
            "POST",
            signed.path,
            signed.body,
            content_type=signed.content_type,
            headers=headers,
            REMOTE_ADDR=remote_addr,
        )
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        return Sent(response.status_code, response.content, response["Content-Type"])

    return _send


@pytest.fixture
def last_journal() -> Callable[[], JournalEntry]:
    def _last() -> JournalEntry:
        entry = JournalEntry.objects.order_by("-id").first()
        assert entry is not None, "no journal row was written"
        return entry

    return _last
