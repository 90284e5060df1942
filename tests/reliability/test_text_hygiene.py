"""Text no database column can hold (NUL, unpaired surrogates), found by the payload fuzzer on
PostgreSQL: refused as a parameter error, never an unexpected failure, and always journaled."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from journal.models import JournalEntry
from providers.client_base import SignedRequest
from providers.jdb import crypto as jdb_crypto
from providers.jdb.config import aes_key_and_iv
from providers.vp import signature
from providers.vp.client import encrypt_payload, envelope
from providers.vp.crypto import encrypt, vp_key
from providers.wire import WireError, dumps, loads_object
from tests.helpers import balance
from tests.reliability.conftest import gambler, post_signed
from tests.reliability.flows import Answer, Call, Flows, Gambler

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal
NASTY = ["\\u0000", "a\\u0000b", "\\ud800", "x\\udfffy"]


def last_row() -> JournalEntry:
    row = JournalEntry.objects.order_by("-id").first()
    assert row is not None
    return row


@pytest.mark.parametrize("escape", NASTY)
def test_the_wire_parser_refuses_text_no_database_can_hold(escape: str) -> None:
    for text in (f'{{"a":"{escape}"}}', f'{{"{escape}":1}}', f'{{"a":[["{escape}"]]}}'):
        with pytest.raises(WireError):
            loads_object(text)
    assert loads_object('{"a":"\\ud83d\\ude00 \\u00e9"}') == {"a": "😀 é"}  # real text passes


def _with(call: Call, field: str, escape: str) -> str:
    """The call's JSON text with one string field holding the escape."""
    return dumps(call.payload).replace(json.dumps(call.payload[field]), f'"{escape}"', 1)


def _jdb(text: str) -> SignedRequest:
    key, iv = aes_key_and_iv()
    x = jdb_crypto.encrypt(text.encode(), key, iv)
    return SignedRequest("/providers/jdb/", f"x={x}".encode(), "application/x-www-form-urlencoded")


@pytest.mark.parametrize("escape", NASTY)
@pytest.mark.parametrize(
    ("flow", "field", "code"),
    [
        ("jdb9", "uid", "8000"),
        ("jdb8", "uid", "8000"),
        ("vp", "betId", "9999"),
        ("buffalo", "userId", "INVALID_PARAMETER"),
    ],
)
def test_a_field_holding_it_is_a_parameter_error_and_is_journaled(
    client: Client, flow: str, field: str, code: str, escape: str
) -> None:
    alice = gambler("alice", "USD", "100")
    call = Flows().open(flow, alice, "5001", D("10"), D("2"))
    text = _with(call, field, escape)
    if call.provider == "jdb":
        signed = _jdb(text)
    elif call.provider == "vp":
        signed = SignedRequest("/providers/vp/", envelope(_vp_cipher(text)))
    else:
        token = call.signed()
        signed = SignedRequest(token.path, text.encode(), headers=token.headers)
    answer = post_signed(client, call.provider, signed)
    assert answer.code == code, answer.body
    assert balance("alice") == D("100")
    row = last_row()
    assert row.outcome == "bad_input" and row.provider == call.provider, (row.outcome, row.error)


def _vp_cipher(text: str) -> str:
    return encrypt(text.encode("utf-8", errors="surrogatepass"), vp_key(settings.VP_API_KEY))


def test_naga_data_holding_it_is_refused_before_any_lookup(client: Client) -> None:
    alice = gambler("alice", "USD", "100")
    call = Flows().open("naga", alice, "nb-1", D("10"), D(0))
    signed = call.signed()
    body = signed.body.replace(b'"betId":"nb-1"', b'"betId":"nb\\u0000"')
    answer = post_signed(client, "naga", SignedRequest(signed.path, body, headers=signed.headers))
    assert answer.code.startswith("400 Invalid parameters"), answer.body
    assert last_row().outcome == "bad_input"


@pytest.mark.parametrize("path", ["/providers/naga/%00/", "/providers/buffalo/a%00b"])
def test_a_url_segment_holding_nul_is_an_unknown_function_and_is_journaled(
    client: Client, path: str
) -> None:
    response = client.post(path, b"{}", content_type="application/json")
    assert response["Content-Type"].startswith("application/json")
    row = last_row()
    assert row.outcome in ("unknown_action", "auth_failed") and "\ufffd" in row.path


def test_hostile_headers_do_not_cost_a_good_bet_its_commit(client: Client) -> None:
    """The journal row is written in the money transaction: a header it cannot store as is
    must not roll the bet back (the provider would be told to retry forever)."""
    alice: Gambler = gambler("alice", "USD", "100")
    call = Flows().open("buffalo", alice, "bf-1", D("10"), D(0))
    signed = call.signed()
    answer: Answer = post_signed(
        client,
        "buffalo",
        SignedRequest(
            signed.path,
            signed.body,
            headers={**signed.headers, "X-Request-ID": "id\x00", "X-Odd": "a\x00\udc80"},
        ),
    )
    assert answer.code == "OK" and balance("alice") == D("90")
    row = last_row()
    assert row.outcome == "ok" and row.request_id == "id\ufffd"
    assert row.headers["x-odd"] == "a\ufffd?"


def test_a_vp_nonce_that_is_not_printable_ascii_is_refused(client: Client) -> None:
    gambler("alice", "USD", "100")
    call = Flows().open("vp", Gambler("alice", "USD"), "b1", D("1"), D("0"))
    cipher_text = encrypt_payload(call.payload)
    timestamp, nonce, agent = str(int(time.time() * 1000)), "n\x01nce", "integratorTest01"
    headers = {
        "x-agentid": agent,
        "x-timestamp": timestamp,
        "x-nonce": nonce,
        "x-signature": signature.sign(agent, timestamp, nonce, cipher_text),
    }
    answer = post_signed(
        client, "vp", SignedRequest("/providers/vp/", envelope(cipher_text), headers=headers)
    )
    assert answer.code == "9999" and "printable ASCII" in answer.body["errText"]
    assert balance("alice") == D("100")
