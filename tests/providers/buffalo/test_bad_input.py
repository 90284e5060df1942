"""Refused requests: token problems and bad input each get Buffalo's code and move no money."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from journal.models import JournalEntry
from providers.buffalo.client import build_request
from providers.client_base import SignedRequest
from tests.helpers import balance, bet
from tests.providers.buffalo.conftest import TOKEN, Gambler, answered, new_uuid
from tests.providers.conftest import Sent
from wallet.models import Bet, BetState, LedgerEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal
Call = Callable[..., Sent]


@pytest.fixture
def open_debit(buffalo: Call, alice: Gambler) -> Iterator[None]:
    """Alice holds one open debit; afterwards nothing about it (or her money) may have moved."""
    assert buffalo("debit", alice.tx("open-1", "10")).json["status"] == "OK"
    rows, bets = LedgerEntry.objects.count(), Bet.objects.count()
    yield
    assert balance("alice") == D("990")
    assert LedgerEntry.objects.count() == rows and Bet.objects.count() == bets
    assert bet("open-1", "buffalo").state == BetState.OPEN


def _signed(function: str, payload: dict[str, Any], *, query: str | None, header: str | None):
    """A request with the token forms chosen by the test (None: that form is absent)."""
    base = build_request(payload, function=function)
    path = base.path.split("?")[0] + (f"?authToken={query}" if query is not None else "")
    headers = {"Authorization": header} if header is not None else {}
    return SignedRequest(path, base.body, base.content_type, headers)


# --- the token ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "header", "form"),
    [
        (TOKEN, f"Bearer {TOKEN}", "query+header"),
        (TOKEN, None, "query"),
        (None, f"Bearer {TOKEN}", "header"),
        (None, f"bearer  {TOKEN}", "header"),
    ],
)
def test_the_token_in_either_or_both_places_is_accepted(
    send: Callable[..., Sent], alice: Gambler, query: str | None, header: str | None, form: str
) -> None:
    payload = alice.base()
    answered(send(_signed("balance", payload, query=query, header=header)), payload, "OK", "1000")
    assert JournalEntry.objects.get(payload__uuid=payload["uuid"]).signature_form == form


@pytest.mark.parametrize(
    ("query", "header"),
    [
        pytest.param(None, None, id="missing"),
        pytest.param("wrong-token", None, id="wrong-query"),
        pytest.param("", None, id="empty-query"),
        pytest.param(None, "Bearer wrong-token", id="wrong-header"),
        pytest.param(None, f"Basic {TOKEN}", id="not-bearer"),
        pytest.param(None, TOKEN, id="no-scheme"),
        pytest.param("wrong-token", "Bearer wrong-token", id="both-wrong"),
        pytest.param(TOKEN, "Bearer wrong-token", id="mismatched-header"),
        pytest.param("wrong-token", f"Bearer {TOKEN}", id="mismatched-query"),
        pytest.param(f"{TOKEN}x", f"Bearer {TOKEN}", id="longer"),
        pytest.param(TOKEN[:-1], f"Bearer {TOKEN}", id="prefix"),
        pytest.param("t%C3%A9st", f"Bearer {TOKEN}", id="non-ascii"),
    ],
)
@pytest.mark.parametrize("method", ["debit", "cancel", "balance", "check"])
@pytest.mark.usefixtures("open_debit")
def test_a_missing_or_wrong_token_is_refused_and_moves_nothing(
    send: Callable[..., Sent],
    alice: Gambler,
    method: str,
    query: str | None,
    header: str | None,
) -> None:
    payload = alice.tx("open-1", "10") if method in ("debit", "cancel") else alice.base()
    sent = send(_signed(method, payload, query=query, header=header))
    # No balance: the caller has not shown it is Buffalo.
    answered(sent, payload, "INVALID_TOKEN_ID", None)
    assert set(sent.json) == {"status", "uuid"}
    entry = JournalEntry.objects.get(payload__uuid=payload["uuid"])
    assert entry.outcome == "auth_failed" and entry.action == method
    assert entry.path == f"/providers/buffalo/{method}"
    assert TOKEN not in str(entry.headers) + str(entry.payload) + entry.path
    assert entry.payload is not None and "redacted" in entry.payload["sid"]


def test_a_second_token_in_the_query_must_match_too(
    send: Callable[..., Sent], alice: Gambler
) -> None:
    payload = alice.base()
    signed = build_request(payload, function="balance")
    doubled = SignedRequest(
        signed.path + "&authToken=other", signed.body, signed.content_type, signed.headers
    )
    answered(send(doubled), payload, "INVALID_TOKEN_ID", None)


def test_an_empty_configured_token_refuses_everything(
    send: Callable[..., Sent], alice: Gambler, settings: Any
) -> None:
    payload = alice.base()
    signed = build_request(payload, function="balance")  # built with the real token
    settings.BUFFALO_AUTH_TOKEN = ""
    answered(send(signed), payload, "INVALID_TOKEN_ID", None)
    empty = _signed("balance", payload, query="", header="Bearer ")
    answered(send(empty), payload, "INVALID_TOKEN_ID", None)


def test_the_token_is_read_at_call_time(
    send: Callable[..., Sent], alice: Gambler, settings: Any
) -> None:
    settings.BUFFALO_AUTH_TOKEN = "rotated-token"
    payload = alice.base()
    answered(send(build_request(payload, function="balance")), payload, "OK", "1000")
    stale = _signed("balance", payload, query=TOKEN, header=None)
    answered(send(stale), payload, "INVALID_TOKEN_ID", None)


def test_unknown_method_without_token_reveals_nothing(
    send: Callable[..., Sent], alice: Gambler
) -> None:
    payload = alice.base()
    body = _signed("check", payload, query=None, header=None)
    sent = send(SignedRequest("/providers/buffalo/refund", body.body, body.content_type))
    answered(sent, payload, "INVALID_TOKEN_ID", None)
    entry = JournalEntry.objects.get(payload__uuid=payload["uuid"])
    assert entry.outcome == "auth_failed" and entry.action == "refund"


def test_forbidden_address_is_refused_before_anything_else(
    buffalo: Call, alice: Gambler, settings: Any
) -> None:
    settings.BUFFALO_ALLOWED_IPS = ["10.1.2.0/24"]
    payload = alice.tx("ip-1", "10")
    # The body is not even read (so no uuid to echo), but the attempt is journaled.
    assert buffalo("debit", payload).json == {"status": "UNKNOWN_ERROR"}
    assert not Bet.objects.filter(bet_key="ip-1").exists() and balance("alice") == D("1000")
    entry = JournalEntry.objects.order_by("-id").first()
    assert entry is not None and entry.outcome == "forbidden_ip" and entry.action == "debit"
    allowed = alice.tx("ip-1", "10")
    sent = buffalo("debit", allowed, remote_addr="10.1.2.3")
    answered(sent, allowed, "OK", "990")


# --- the body -------------------------------------------------------------------------------


def _raw(function: str, body: bytes) -> SignedRequest:
    base = build_request({}, function=function)
    return SignedRequest(base.path, body, base.content_type, base.headers)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{not json", id="malformed"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'"text"', id="string"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b'{"uuid": "u1", "uuid": "u2"}', id="duplicate-key"),
        pytest.param(b'{"transaction": {"amount": NaN}}', id="nan"),
    ],
)
@pytest.mark.parametrize("method", ["debit", "credit", "cancel", "balance", "check"])
@pytest.mark.usefixtures("open_debit")
def test_malformed_json_is_an_invalid_parameter(
    send: Callable[..., Sent], method: str, body: bytes
) -> None:
    sent = send(_raw(method, body))
    assert sent.status == 200 and sent.json == {"status": "INVALID_PARAMETER"}
    entry = JournalEntry.objects.order_by("-id").first()
    assert entry is not None and entry.outcome == "bad_input" and entry.action == method


def _without(payload: dict[str, Any], dotted: str) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    *parents, leaf = dotted.split(".")
    target = changed
    for name in parents:
        target = target[name]
    del target[leaf]
    return changed


def _with(payload: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    *parents, leaf = dotted.split(".")
    target = changed
    for name in parents:
        target = target[name]
    target[leaf] = value
    return changed


MONEY_FIELDS = [
    "sid",
    "userId",
    "uuid",
    "currency",
    "game",
    "game.id",
    "game.type",
    "transaction",
    "transaction.id",
    "transaction.refId",
    "transaction.amount",
]


@pytest.mark.parametrize("field", MONEY_FIELDS)
@pytest.mark.parametrize("method", ["debit", "credit", "cancel"])
@pytest.mark.usefixtures("open_debit")
def test_a_missing_field_is_an_invalid_parameter(
    buffalo: Call, alice: Gambler, method: str, field: str
) -> None:
    payload = _without(alice.tx("open-1", "10", tx_id="t-missing"), field)
    sent = buffalo(method, payload)
    assert sent.json["status"] == "INVALID_PARAMETER", sent
    assert sent.json.get("uuid") == payload.get("uuid")
    if field != "userId":  # the player is known: the answer shows her balance
        assert sent.json["balance"] == D("990") and sent.json["bonus"] == 0
    entry = JournalEntry.objects.order_by("-id").first()
    assert entry is not None and entry.outcome == "bad_input"
    assert field.split(".")[-1] in entry.error


MISTYPED = [
    ("sid", 12345),
    ("userId", 42),
    ("userId", ""),
    ("uuid", ["u"]),
    ("currency", 840),
    ("currency", "U$D"),
    ("game", "G1"),
    ("game.id", 7),
    ("transaction", []),
    ("transaction.id", None),
    ("transaction.refId", 1459),
    ("transaction.refId", "x" * 65),
    ("transaction.amount", "10"),
    ("transaction.amount", True),
    ("transaction.amount", D("10.0000001")),
    ("transaction.amount", D("-10")),
    ("transaction.amount", D("-0.000001")),
    ("transaction.amount", D("1e20")),
]


@pytest.mark.parametrize(("field", "value"), MISTYPED, ids=[f"{f}={v!r}"[:40] for f, v in MISTYPED])
@pytest.mark.parametrize("method", ["debit", "credit", "cancel"])
@pytest.mark.usefixtures("open_debit")
def test_a_mistyped_field_is_an_invalid_parameter(
    buffalo: Call, alice: Gambler, method: str, field: str, value: Any
) -> None:
    payload = _with(alice.tx("open-1", "10", tx_id="t-typed"), field, value)
    sent = buffalo(method, payload)
    assert sent.json["status"] == "INVALID_PARAMETER", sent
    entry = JournalEntry.objects.order_by("-id").first()
    assert entry is not None
    assert entry.outcome == "bad_input", entry.error


def test_more_than_six_decimals_are_refused_even_when_the_text_is_exact(
    buffalo: Call, alice: Gambler
) -> None:
    payload = alice.tx("d7", "0.0000001")
    sent = buffalo("debit", payload)
    answered(sent, payload, "INVALID_PARAMETER", "1000")
    assert "6 decimal" in JournalEntry.objects.order_by("-id").first().error  # type: ignore[union-attr]
    trailing = alice.tx("d7", "1.5000000")  # seven places, but exactly 1.5: accepted
    answered(buffalo("debit", trailing), trailing, "OK", "998.5")


@pytest.mark.usefixtures("open_debit")
def test_wrong_currency_is_an_invalid_parameter(buffalo: Call, alice: Gambler) -> None:
    for method in ("debit", "credit", "cancel"):
        payload = alice.tx("open-1", "10", tx_id="t-eur", currency="EUR")
        answered(buffalo(method, payload), payload, "INVALID_PARAMETER", "990")
        entry = JournalEntry.objects.get(payload__uuid=payload["uuid"])
        assert entry.outcome == "wrong_currency"


def test_lower_case_currency_is_the_same_currency(buffalo: Call, alice: Gambler) -> None:
    payload = alice.tx("lc-1", "1", currency="usd")
    answered(buffalo("debit", payload), payload, "OK", "999")


def test_oversized_body_is_refused(buffalo: Call, alice: Gambler, settings: Any) -> None:
    settings.PROVIDER_MAX_BODY_BYTES = 200
    payload = alice.tx("big-body", "1")
    payload["game"]["details"] = "x" * 300
    sent = buffalo("debit", payload)
    assert sent.json == {"status": "INVALID_PARAMETER"}
    assert balance("alice") == D("1000") and not Bet.objects.filter(bet_key="big-body").exists()


def test_get_is_refused_as_json(client: Any, alice: Gambler) -> None:
    response = client.get(f"/providers/buffalo/balance?authToken={TOKEN}")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == {"status": "INVALID_PARAMETER"}


def test_extra_fields_are_ignored(buffalo: Call, alice: Gambler) -> None:
    payload = alice.tx("extra-1", "1")
    payload["channel"] = {"type": "M"}
    payload["game"]["details"] = {"table": {"id": "t1"}}
    payload["futureField"] = 1
    answered(buffalo("debit", payload), payload, "OK", "999")


def test_uuid_is_echoed_on_refusals_when_readable(buffalo: Call, alice: Gambler) -> None:
    payload = {**alice.tx("u-1", "1"), "uuid": new_uuid(), "userId": 42}
    sent = buffalo("debit", payload)
    assert sent.json == {"status": "INVALID_PARAMETER", "uuid": payload["uuid"]}
