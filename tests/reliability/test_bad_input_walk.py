"""Every provider, every kind of bad input the DRF edge meets: the provider's own refusal,
journaled, no money moved, never DRF's ``{"detail": ...}`` and never an HTML page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from journal.models import JournalEntry
from providers.client_base import SignedRequest
from tests.reliability.conftest import gambler
from tests.reliability.flows import Answer, Flows, Gambler, read_answer
from wallet.models import LedgerEntry, Wallet

pytestmark = pytest.mark.django_db

PROVIDERS = ("jdb", "vp", "naga", "buffalo")

#: Each provider's code for each kind of bad input, as ``Answer.code`` reads it.
EXPECTED: dict[str, dict[str, str]] = {
    "malformed body": {
        "jdb": "9001",
        "vp": "9999",
        "naga": "400 Invalid parameters",
        "buffalo": "INVALID_PARAMETER",  # the token in the query string still proves Buffalo
    },
    "wrong key or signature": {
        "jdb": "9001",
        "vp": "9999",
        "naga": "401 Invalid signature",
        "buffalo": "INVALID_TOKEN_ID",
    },
    "unknown path": {
        "jdb": "8000",
        "vp": "9999",
        "naga": "404 Unknown function",
        "buffalo": "UNKNOWN_ERROR",
    },
    "wrong method": {
        "jdb": "8000",
        "vp": "9999",
        "naga": "400 Invalid parameters",
        "buffalo": "INVALID_PARAMETER",
    },
    # Providers send what Content-Type they like: an authenticated body is read whatever it says.
    "wrong content type": {"jdb": "0000", "vp": "0000", "naga": "200", "buffalo": "OK"},
    "oversized body": {
        "jdb": "8000",
        "vp": "9999",
        "naga": "413 Payload too large",
        "buffalo": "INVALID_PARAMETER",
    },
}


def _malformed(signed: SignedRequest) -> SignedRequest:
    return replace(signed, body=b"{not json at all", headers={})


def _spoiled(value: str) -> str:
    """The value with its first character changed (always changed: "x" unless it was "x")."""
    return ("y" if value[:1] == "x" else "x") + value[1:]


def _wrong_key(signed: SignedRequest) -> SignedRequest:
    headers = {name: _spoiled(value) for name, value in signed.headers.items()}
    if signed.content_type.startswith("application/x-www-form-urlencoded"):
        return replace(signed, body=b"x=" + b"A" * 64)  # JDB: a cipher under no key of ours
    if b"cipherText" in signed.body:  # VP: the GCM tag no longer matches
        body = signed.body.replace(b'"cipherText":"', b'"cipherText":"AAAA', 1)
        return replace(signed, body=body, headers=headers)
    return replace(signed, headers=headers)


def _unknown_path(signed: SignedRequest) -> SignedRequest:
    path, _, query = signed.path.partition("?")
    return replace(
        signed, path=path.rstrip("/") + "/no-such-thing/" + ("?" + query if query else "")
    )


def _wrong_type(signed: SignedRequest) -> SignedRequest:
    wrong = "application/json" if "form" in signed.content_type else "text/plain"
    return replace(signed, content_type=wrong)


def _oversized(signed: SignedRequest) -> SignedRequest:
    return replace(signed, body=signed.body + b" " * 70_000)


CASES: dict[str, Callable[[SignedRequest], SignedRequest]] = {
    "malformed body": _malformed,
    "wrong key or signature": _wrong_key,
    "unknown path": _unknown_path,
    "wrong content type": _wrong_type,
    "oversized body": _oversized,
}


def _send(client: Client, provider: str, signed: SignedRequest, method: str = "POST") -> Answer:
    response = client.generic(
        method,
        signed.path,
        signed.body,
        content_type=signed.content_type,
        headers=signed.headers,
        REMOTE_ADDR="127.0.0.1",
    )
    content_type = response.get("Content-Type", "")
    assert content_type == "application/json", (content_type, response.content[:200])
    return read_answer(provider, response.status_code, response.content, content_type)


def _money() -> tuple[int, dict[int, Decimal]]:
    return LedgerEntry.objects.count(), dict(Wallet.objects.values_list("id", "balance"))


@pytest.fixture
def who() -> Gambler:
    return gambler("walker", "USD", "100")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("case", [*CASES, "wrong method"])
def test_bad_input_gets_the_providers_refusal(
    client: Client, who: Gambler, provider: str, case: str
) -> None:
    flow = "jdb9" if provider == "jdb" else provider
    signed = Flows().open(flow, who, "4242", Decimal("10"), Decimal("0")).signed()
    before, rows = _money(), JournalEntry.objects.count()

    if case == "wrong method":
        answer = _send(client, provider, signed, method="GET")
    else:
        answer = _send(client, provider, CASES[case](signed))

    assert answer.code.startswith(EXPECTED[case][provider]), answer.body  # Naga adds a reason
    body: Any = answer.body
    assert isinstance(body, dict) and set(body) != {"detail"}, body  # never DRF's own shape
    assert JournalEntry.objects.count() == rows + 1
    if case != "wrong content type":  # the providers ignore it: the bet is taken
        assert _money() == before
