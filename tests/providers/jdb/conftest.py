"""JDB fixtures: two players addressed by JDB currency codes, and a sender that encrypts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from providers.client_base import SignedRequest
from providers.jdb.client import build_request
from tests.helpers import make_player
from tests.providers.conftest import Sent
from tests.providers.jdb.jdb_wire import CNY_PLAYER, MYR_PLAYER
from wallet.models import Player

JdbSend = Callable[..., Sent]


@pytest.fixture
def chen(db: Any) -> Player:
    """CNY 1000.00, addressed by JDB as currency RB."""
    return make_player(CNY_PLAYER, "CNY", "1000")


@pytest.fixture
def dana(db: Any) -> Player:
    """MYR 40.00, addressed by JDB as currency RM."""
    return make_player(MYR_PLAYER, "MYR", "40")


@pytest.fixture
def jdb(send: Callable[..., Sent]) -> JdbSend:
    """POST a payload to /providers/jdb/ encrypted exactly as JDB does; returns what came back.

    Every JDB answer is HTTP 200 JSON; this asserts it so that tests read only the body.
    """

    def _send(payload: dict[str, Any], **kwargs: Any) -> Sent:
        sent = send(build_request(payload), **kwargs)
        assert sent.status == 200, sent
        return sent

    return _send


@pytest.fixture
def jdb_raw(send: Callable[..., Sent]) -> Callable[..., Sent]:
    """POST a raw form body (for bodies JDB would never send)."""

    def _send(
        body: bytes,
        content_type: str = "application/x-www-form-urlencoded",
        path: str = "/providers/jdb/",
        **kwargs: Any,
    ) -> Sent:
        sent = send(SignedRequest(path=path, body=body, content_type=content_type), **kwargs)
        assert sent.status == 200, sent
        return sent

    return _send
