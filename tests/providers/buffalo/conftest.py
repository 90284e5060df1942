"""Buffalo fixtures: two players with live sids, and a ``buffalo`` caller over real HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from journal.models import JournalEntry
from providers.buffalo.client import build_request
from tests.helpers import make_player
from tests.providers.conftest import Sent
from wallet.models import LedgerEntry
from wallet.services import session_create

D = Decimal
TOKEN = "test-buffalo-token_01"  # tests/conftest.py TEST_PROVIDER_SETTINGS
_uuids = itertools.count(1)


def new_uuid() -> str:
    return f"uuid-{next(_uuids):06d}"


@dataclass
class Gambler:
    """A player as Buffalo knows them: userId, the sid it holds, the session currency."""

    user_id: str
    sid: str
    currency: str = "USD"

    def base(self, **extra: Any) -> dict[str, Any]:
        return {"sid": self.sid, "userId": self.user_id, "uuid": new_uuid(), **extra}

    def tx(
        self,
        ref_id: str,
        amount: str | Decimal | int,
        *,
        tx_id: str | None = None,
        round_id: str = "round-1",
        currency: str | None = None,
    ) -> dict[str, Any]:
        """A debit/credit/cancel body as Buffalo sends it."""
        return self.base(
            currency=currency or self.currency,
            game={"id": round_id, "type": "plinko", "session": "game-session-1"},
            transaction={
                "id": tx_id or f"tx-{ref_id}",
                "refId": ref_id,
                "amount": D(amount) if isinstance(amount, str) else amount,
            },
        )


def new_sid(account_id: str, ttl_seconds: int | None = None) -> str:
    return session_create(account_id=account_id, provider="buffalo", ttl_seconds=ttl_seconds).token


@pytest.fixture
def alice(db: None) -> Gambler:
    make_player("alice", "USD", "1000")
    return Gambler("alice", new_sid("alice"))


@pytest.fixture
def bob(db: None) -> Gambler:
    make_player("bob", "USD", "250.50")
    return Gambler("bob", new_sid("bob"))


@pytest.fixture
def buffalo(send: Callable[..., Sent]) -> Callable[..., Sent]:
    """POST ``payload`` to a Buffalo method, signed as Buffalo signs (token in query+header)."""

    def _call(function: str, payload: dict[str, Any], **headers: str) -> Sent:
        return send(build_request(payload, function=function), **headers)

    return _call


def ledger_count() -> int:
    return LedgerEntry.objects.count()


def journal_for(uuid: str) -> JournalEntry:
    """The (latest) journal row of the request with this uuid (the payload is stored decoded)."""
    entry = JournalEntry.objects.filter(payload__uuid=uuid).order_by("-id").first()
    assert entry is not None, f"no journal row for {uuid}"
    return entry


def answered(sent: Sent, payload: dict[str, Any], status: str, balance: str | None) -> None:
    """The answer is HTTP 200 JSON with this status, the uuid echoed, and the balance shown
    (bonus 0) exactly, or no balance at all when ``balance`` is None."""
    assert sent.status == 200, sent
    body = sent.json
    assert body["status"] == status, sent
    assert body.get("uuid") == payload.get("uuid"), sent
    if balance is None:
        assert "balance" not in body and "bonus" not in body, sent
    else:
        assert body["balance"] == D(balance), sent
        assert body["bonus"] == 0, sent
        assert f'"balance":{balance},'.encode() in sent.raw, sent  # exact text, no float


def journaled(
    payload: dict[str, Any], *, action: str, outcome: str, bet_key: str = "", **more: Any
) -> JournalEntry:
    """The request's journal row says what happened; the sid never appears in clear."""
    entry = journal_for(payload["uuid"])
    assert entry.provider == "buffalo"
    assert entry.action == action
    assert entry.outcome == outcome, (entry.outcome, entry.error)
    assert entry.bet_key == bet_key
    assert entry.account_id == payload.get("userId", "")
    assert entry.is_cancel == (action == "cancel")
    assert entry.path == f"/providers/buffalo/{action}"  # no query string: no token
    assert entry.headers.get("authorization") == "[redacted]"
    if "sid" in payload:
        assert entry.payload is not None
        assert entry.payload["sid"] != payload["sid"] and "redacted" in entry.payload["sid"]
    for name, value in more.items():
        assert getattr(entry, name) == value, (name, getattr(entry, name))
    return entry
