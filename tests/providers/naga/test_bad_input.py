"""Bad input, each case on its own: Naga's error answer, no money moved, the journal row."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from providers.client_base import SignedRequest
from providers.naga.client import sign
from providers.naga.crypto import data_hash
from tests.helpers import balance
from tests.providers.naga.conftest import (
    Naga,
    assert_error,
    assert_no_money_moved,
    journal,
    place_bet_data,
)
from wallet.models import Bet

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

BET = "11111111-2222-3333-4444-555555555555"  # place_bet_data's default
PATH = "/providers/naga/place-bet/"


def raw(body: str | bytes, signature: str | None) -> SignedRequest:
    headers = {"X-Signature": signature} if signature is not None else {}
    return SignedRequest(
        path=PATH, body=body.encode() if isinstance(body, str) else body, headers=headers
    )


def assert_refused(naga: Naga, signed: SignedRequest, status: int, message: str, outcome: str):
    sent = naga.post(signed)
    assert_error(sent, status, message)
    assert_no_money_moved()
    assert not Bet.objects.exists()
    assert balance() == Decimal("100")
    row = journal()
    assert (row.action, row.http_status, row.outcome) == ("place-bet", status, outcome)
    assert row.error  # the detail staff need is kept
    return row


# --- integrity and authentication -----------------------------------------------------------


def test_missing_data_hash(naga: Naga, alice_token: str) -> None:
    signed = naga.request("place-bet", place_bet_data(alice_token))
    body = json.loads(signed.body)
    del body["dataHash"]
    row = assert_refused(
        naga,
        raw(json.dumps(body), signed.headers["X-Signature"]),
        401,
        "Invalid signature",
        "auth_failed",
    )
    assert "dataHash is missing" in row.error
    assert row.bet_key == BET  # staff can still find the attempt from the bet id


@pytest.mark.parametrize("bad_hash", ["0" * 64, "not-hex", 12345, None])
def test_wrong_data_hash(naga: Naga, alice_token: str, bad_hash: Any) -> None:
    data = place_bet_data(alice_token)
    signed = naga.request("place-bet", data)
    body = json.loads(signed.body, parse_float=Decimal)
    body["dataHash"] = bad_hash
    forged = raw(json.dumps(body, default=str), signed.headers["X-Signature"])
    assert_refused(naga, forged, 401, "Invalid signature", "auth_failed")


def test_data_hash_of_the_data_but_no_signature(naga: Naga, alice_token: str) -> None:
    signed = naga.request("place-bet", place_bet_data(alice_token))
    row = assert_refused(naga, raw(signed.body, None), 401, "Invalid signature", "auth_failed")
    assert "X-Signature header is missing" in row.error


def test_signature_that_is_not_base64(naga: Naga, alice_token: str) -> None:
    signed = naga.request("place-bet", place_bet_data(alice_token))
    assert_refused(
        naga, raw(signed.body, "%%%not base64%%%"), 401, "Invalid signature", "auth_failed"
    )


def test_signature_by_another_key(
    naga: Naga, alice_token: str, stranger_key: rsa.RSAPrivateKey
) -> None:
    signed = naga.request("place-bet", place_bet_data(alice_token), key=stranger_key)
    row = assert_refused(naga, signed, 401, "Invalid signature", "auth_failed")
    assert "does not verify" in row.error


def test_signature_over_other_data(naga: Naga, alice_token: str) -> None:
    """A genuine Naga signature, but of another request (a 1.00 bet), on a 99.00 bet."""
    cheap = naga.request("place-bet", place_bet_data(alice_token, amount="1"))
    dear = naga.request("place-bet", place_bet_data(alice_token, amount="99"))
    replayed = raw(dear.body, cheap.headers["X-Signature"])
    assert_refused(naga, replayed, 401, "Invalid signature", "auth_failed")


def test_data_changed_after_signing(naga: Naga, alice_token: str) -> None:
    signed = naga.request("place-bet", place_bet_data(alice_token, amount="1"))
    tampered = signed.body.replace(b'"amount":1,', b'"amount":99,')
    assert tampered != signed.body
    row = assert_refused(
        naga, raw(tampered, signed.headers["X-Signature"]), 401, "Invalid signature", "auth_failed"
    )
    assert "dataHash does not match" in row.error


def test_data_keys_reordered_after_signing(naga: Naga, alice_token: str) -> None:
    """Same keys and values, other order: JSON.stringify differs, so the hash does too."""
    data = place_bet_data(alice_token)
    signed = naga.request("place-bet", data)
    reordered = dict(reversed(list(data.items())))
    body = '{"data":' + _js(reordered) + ',"dataHash":"' + data_hash(data) + '"}'
    assert_refused(
        naga, raw(body, signed.headers["X-Signature"]), 401, "Invalid signature", "auth_failed"
    )


def test_signature_over_a_hash_that_is_not_the_datas(
    naga: Naga, alice_token: str, naga_key: rsa.RSAPrivateKey
) -> None:
    """Hash and signature agree with each other but not with the data."""
    data = place_bet_data(alice_token)
    fake_hash = "ab" * 32
    body = '{"data":' + _js(data) + ',"dataHash":"' + fake_hash + '"}'
    assert_refused(
        naga, raw(body, sign(fake_hash.encode(), naga_key)), 401, "Invalid signature", "auth_failed"
    )


def test_signature_truncated(naga: Naga, alice_token: str) -> None:
    signed = naga.request("place-bet", place_bet_data(alice_token))
    short = base64.b64encode(base64.b64decode(signed.headers["X-Signature"])[:-1]).decode()
    assert_refused(naga, raw(signed.body, short), 401, "Invalid signature", "auth_failed")


# --- malformed bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"data": {"betId": "x"}, "dataHash": ', "body: body is not valid JSON"),
        (b"[1, 2]", "body: body is not a JSON object"),
        (b"\xff\xfe", "body: body is not UTF-8"),
        (b"", "body: body is not valid JSON"),
        (b'{"data": {"amount": NaN}, "dataHash": "x"}', "body: NaN is not a number we accept"),
        (b'{"data": {"a": 1, "a": 2}, "dataHash": "x"}', "body: duplicate key 'a'"),
        (b'{"data": "betId", "dataHash": "x"}', "data must be an object"),
        (b'{"dataHash": "x"}', "data must be an object"),
    ],
)
def test_malformed_body(naga: Naga, alice_token: str, body: bytes, detail: str) -> None:
    sent = naga.post(raw(body, "c2lnbmF0dXJl"))
    assert sent.status == 400
    assert sent.json["data"] is None
    assert sent.json["error"]["statusCode"] == 400
    assert sent.json["error"]["message"].startswith(f"Invalid parameters: {detail}")
    assert_no_money_moved()
    row = journal()
    assert (row.http_status, row.outcome) == (400, "bad_input")


# --- fields (correctly signed, so validation is what refuses them) ---------------------------


@pytest.mark.parametrize(
    "field",
    [
        "betId",
        "currency",
        "gameCode",
        "playerToken",
        "groupCode",
        "transactionId",
        "amount",
        "brandCode",
    ],
)
def test_missing_field(naga: Naga, alice_token: str, field: str) -> None:
    data = place_bet_data(alice_token)
    del data[field]
    assert_refused(
        naga,
        naga.request("place-bet", data),
        400,
        f"Invalid parameters: {field} is missing",
        "bad_input",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "ten", "amount is not a number: 'ten'"),
        ("amount", {"value": 10}, "amount must be a number"),
        ("amount", "NaN", "amount must be a finite number"),
        ("amount", True, "amount must be a number, not a boolean"),
        ("amount", Decimal("-1"), "amount must not be negative"),
        ("amount", Decimal("1.234"), "amount has more than 2 decimal places"),
        ("amount", Decimal("1e30"), "amount is too large"),
        ("betId", 123, "betId must be a string"),
        ("betId", "", "betId must not be empty"),
        ("betId", "x" * 65, "betId is longer than 64 characters"),
        ("currency", ["USD"], "currency must be a string"),
        ("playerToken", {"t": 1}, "playerToken must be a string"),
        ("transactionId", Decimal("1.5"), "transactionId must be a whole number, not a decimal"),
        ("parentBetId", 7, "parentBetId must be a string"),
        ("isLastFreeSpins", "yes", "isLastFreeSpins must be true or false"),
        ("groupCode", 1234, "groupCode must be a string"),
    ],
)
def test_mistyped_field(naga: Naga, alice_token: str, field: str, value: Any, message: str) -> None:
    data = place_bet_data(alice_token)
    data[field] = value
    assert_refused(
        naga, naga.request("place-bet", data), 400, f"Invalid parameters: {message}", "bad_input"
    )


@pytest.mark.parametrize(("field", "value"), [("groupCode", "XGRP"), ("brandCode", "XBRD")])
def test_codes_that_are_not_ours(naga: Naga, alice_token: str, field: str, value: str) -> None:
    data = place_bet_data(alice_token)
    data[field] = value
    assert_refused(
        naga,
        naga.request("place-bet", data),
        400,
        f"Invalid parameters: {field} '{value}' is not ours",
        "bad_input",
    )


@pytest.mark.parametrize("function", ["cancel-bet", "bet-status"])
def test_codes_when_sent_to_functions_without_them_must_still_be_ours(
    naga: Naga, alice_token: str, function: str
) -> None:
    sent = naga.call(function, {"betId": BET, "groupCode": "XGRP"})
    assert_error(sent, 400, "Invalid parameters: groupCode 'XGRP' is not ours")
    assert not Bet.objects.exists()  # no tombstone either


def test_authorize_with_a_missing_field(naga: Naga, alice_token: str) -> None:
    sent = naga.call("authorize", {"playerToken": alice_token, "groupCode": "TGRP"})
    assert_error(sent, 400, "Invalid parameters: brandCode is missing")


def test_only_post(naga: Naga, alice_token: str, client: Any) -> None:
    response = client.get(PATH)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid parameters: only POST is accepted"


def test_oversized_body(naga: Naga, alice_token: str, settings: Any) -> None:
    settings.PROVIDER_MAX_BODY_BYTES = 200
    signed = naga.request("place-bet", place_bet_data(alice_token, note="x" * 300))
    sent = naga.post(signed)
    assert_error(sent, 413, "Payload too large")
    assert_no_money_moved()


def _js(data: dict[str, Any]) -> str:
    from providers.naga.jsjson import js_stringify

    return js_stringify(data)
