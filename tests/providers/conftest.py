"""Fixtures for driving provider endpoints through the full Django request path, and the kit
shared by every provider's race tests (``test_concurrency.py``): their marks, a request on a
client of its own, a row lock held by another connection, a short lock wait."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from journal.models import JournalEntry
from providers.client_base import SignedRequest
from tests.helpers import requires_postgres

#: The marks of a race test. Each thread has its own database connection, which cannot see an
#: open test transaction, so the test's writes are committed; SQLite serialises whole
#: transactions and would prove nothing, so it runs on PostgreSQL only.
RACE = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, requires_postgres]


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


def send_alone(signed: SignedRequest) -> Sent:
    """POST on a test client of its own, as a separate provider worker would: threads must not
    share a client, and each thread's request runs on its own database connection."""
    response = Client().generic(
        "POST",
        signed.path,
        signed.body,
        content_type=signed.content_type,
        headers=signed.headers,
    )
    return Sent(response.status_code, response.content, response["Content-Type"])


class RowHolder:
    """Holds a row lock on another connection until released (a slow concurrent request)."""

    def __init__(self, lock: Callable[[], object]) -> None:
        self._lock = lock
        self.locked = threading.Event()
        self.release = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self._lock()
                self.locked.set()
                self.release.wait(10)
        finally:
            connections.close_all()

    def __enter__(self) -> RowHolder:
        self._thread.start()
        assert self.locked.wait(5), "the holder never got its lock"
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._thread.join(10)


@pytest.fixture
def hold_row() -> Iterator[Callable[[Callable[[], object]], RowHolder]]:
    """``with hold_row(lambda: Model.objects.select_for_update().get(...)):`` holds that lock
    on another connection for the block; released at teardown too if the test failed inside."""
    holders: list[RowHolder] = []

    def _hold(lock: Callable[[], object]) -> RowHolder:
        holders.append(RowHolder(lock))
        return holders[-1]

    yield _hold
    for holder in holders:
        holder.release.set()


@pytest.fixture
def short_lock_timeout() -> Iterator[None]:
    """Bound this thread's lock waits at 200 ms instead of ``WALLET_LOCK_TIMEOUT_MS``.

    The test client runs the view in this thread, on this connection, so a session-level
    ``SET lock_timeout`` is exactly the knob production sets for every connection (settings:
    ``-c lock_timeout=WALLET_LOCK_TIMEOUT_MS``), only shorter so the test stays fast.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
