"""VP's optional signature headers on callbacks: both signing forms, and every way to fail."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from providers.client_base import SignedRequest
from providers.vp import signature
from providers.vp.client import build_request, encrypt_payload, envelope
from tests.helpers import balance, bet
from tests.providers.conftest import Sent
from tests.providers.vp.conftest import assert_answer, bet_payload, journal_row, ledger_rows
from wallet.models import Bet

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("players", "ledger_is_consistent")]

D = Decimal
AGENT = "integratorTest01"  # tests/conftest.py
Send = Callable[..., Sent]


def now_ms() -> int:
    return int(time.time() * 1000)


def signed(payload: dict, *, form: str = "pipe", **override: str) -> SignedRequest:
    """An encrypted request with headers in the given form, then any header overridden."""
    cipher_text = encrypt_payload(payload)
    body = envelope(cipher_text)
    timestamp, nonce = str(now_ms()), "0123456789abcdef0123456789abcdef"
    if form == "pipe":
        sig = signature.sign(AGENT, timestamp, nonce, cipher_text)
    else:
        sig = signature.sign_concatenated(AGENT, timestamp, nonce, body)
    headers = {
        "x-agentid": AGENT,
        "x-timestamp": timestamp,
        "x-nonce": nonce,
        "x-signature": sig,
        **override,
    }
    return SignedRequest(path="/providers/vp/", body=body, headers=headers)


# --- accepted -----------------------------------------------------------------------------------


def test_the_current_form_is_accepted_and_journaled(send: Send) -> None:
    sent = send(signed(bet_payload("b1", "10", "25"), form="pipe"))
    assert_answer(sent, "0000", "115.00")
    assert balance() == D("115")
    assert journal_row().signature_form == "pipe_ciphertext"


def test_the_older_form_over_the_json_body_is_accepted_and_journaled(send: Send) -> None:
    sent = send(signed(bet_payload("b1", "10", "25"), form="concat"))
    assert_answer(sent, "0000", "115.00")
    assert balance() == D("115")
    assert journal_row().signature_form == "concat_body"


def test_no_signature_headers_at_all_is_accepted(send: Send) -> None:
    request = build_request(bet_payload("b1", "10", "25"))
    sent = send(SignedRequest(path=request.path, body=request.body))
    assert_answer(sent, "0000", "115.00")
    assert journal_row().signature_form == "absent"


def test_an_uppercase_hex_signature_is_the_same_signature(send: Send) -> None:
    request = signed(bet_payload("b1", "10", "25"))
    upper = {**request.headers, "x-signature": request.headers["x-signature"].upper()}
    assert_answer(send(SignedRequest(request.path, request.body, headers=upper)), "0000", "115.00")


def test_the_client_signs_what_the_verifier_accepts(send: Send) -> None:
    request = build_request(bet_payload("b1", "1", "0"))
    assert set(request.headers) == set(signature.SIGNATURE_HEADERS)
    assert len(request.headers["x-nonce"]) == 32
    assert_answer(send(request), "0000", "99.00")


# --- refused --------------------------------------------------------------------------------------


def assert_refused(sent: Sent, text: str, bet_id: str = "b1") -> None:
    assert_answer(sent, "9999", "0.00")
    assert text in sent.json["errText"], sent.json
    row = journal_row()
    assert row.outcome == "auth_failed" and row.signature_form == "refused"
    assert row.bet_key == bet_id and (row.payload or {})["betId"] == bet_id  # findable from the bet
    assert balance() == D("100") and ledger_rows(bet_id) == []
    assert not Bet.objects.filter(provider="vp", bet_key=bet_id).exists()


def test_a_wrong_agent_id_is_refused(send: Send) -> None:
    assert_refused(send(signed(bet_payload("b1"), **{"x-agentid": "someoneElse"})), "agent id")


def test_a_signature_that_matches_neither_form_is_refused(send: Send) -> None:
    assert_refused(send(signed(bet_payload("b1"), **{"x-signature": "ab" * 32})), "neither")


def test_a_signature_over_other_content_is_refused(send: Send) -> None:
    other = signed(bet_payload("b1", "10", "2500"))
    request = signed(bet_payload("b1", "10", "25"), **{"x-signature": other.headers["x-signature"]})
    assert_refused(send(request), "neither")


@pytest.mark.parametrize("skew_ms", [-5 * 60 * 1000 - 5000, 5 * 60 * 1000 + 5000])
def test_a_timestamp_more_than_five_minutes_off_is_refused(send: Send, skew_ms: int) -> None:
    payload = bet_payload("b1")
    cipher_text = encrypt_payload(payload)
    headers = signature.new_headers(AGENT, cipher_text, now_ms=now_ms() + skew_ms)
    request = SignedRequest(path="/providers/vp/", body=envelope(cipher_text), headers=headers)
    assert_refused(send(request), "5 minutes")


@pytest.mark.parametrize("value", ["1733880218", "2024-12-11T01:23:38Z", "-1", "١٧٣٣٨٨٠٢١٨٢٧١"])
def test_a_timestamp_that_is_not_milliseconds_is_refused(send: Send, value: str) -> None:
    assert_refused(send(signed(bet_payload("b1"), **{"x-timestamp": value})), "x-timestamp")


@pytest.mark.parametrize("left_out", signature.SIGNATURE_HEADERS)
def test_a_partial_header_set_is_refused(send: Send, left_out: str) -> None:
    request = signed(bet_payload("b1"))
    headers = {k: v for k, v in request.headers.items() if k != left_out}
    assert_refused(send(SignedRequest(request.path, request.body, headers=headers)), left_out)


def test_an_empty_header_counts_as_missing(send: Send) -> None:
    assert_refused(send(signed(bet_payload("b1"), **{"x-nonce": ""})), "x-nonce")


def test_a_signed_rollback_refused_for_its_headers_leaves_the_round_alone(send: Send) -> None:
    send(signed(bet_payload("b1", "10", "25")))
    rollback = {"action": "rollback", "uid": "alice", "betId": "b1", "roundId": "r"}
    sent = send(signed(rollback, **{"x-agentid": "someoneElse"}))
    assert_answer(sent, "9999", "0.00")
    row = journal_row()
    assert row.is_cancel and row.bet_key == "b1" and row.outcome == "auth_failed"
    assert bet("b1", "vp").cancel_outcome == "" and balance() == D("115")


# --- the verifier on its own ----------------------------------------------------------------------


def test_the_clock_bound_is_inclusive_at_exactly_five_minutes() -> None:
    now = 1_733_880_218_271
    for skew in (-signature.MAX_CLOCK_SKEW_MS, signature.MAX_CLOCK_SKEW_MS):
        headers = signature.new_headers(AGENT, "c", now_ms=now + skew)
        form = signature.verify(headers, agent_id=AGENT, cipher_text="c", body=b"", now_ms=now)
        assert form == signature.SignatureForm.PIPE
    late = signature.new_headers(AGENT, "c", now_ms=now + signature.MAX_CLOCK_SKEW_MS + 1)
    with pytest.raises(signature.SignatureError):
        signature.verify(late, agent_id=AGENT, cipher_text="c", body=b"", now_ms=now)


def test_an_unconfigured_agent_id_accepts_no_signed_callback() -> None:
    headers = signature.new_headers("someAgent", "c")
    with pytest.raises(signature.SignatureError, match="agent id"):
        signature.verify(headers, agent_id="", cipher_text="c", body=b"")


def test_both_forms_are_plain_sha256_of_the_documented_strings() -> None:
    got = signature.sign("agent", "1700000000000", "n", "CT")
    assert got == hashlib.sha256(b"agent|1700000000000|n|CT").hexdigest()
    assert signature.sign_concatenated("agent", "1700000000000", "n", b'{"cipherText":"CT"}') == (
        hashlib.sha256(b'agent1700000000000n{"cipherText":"CT"}').hexdigest()
    )
