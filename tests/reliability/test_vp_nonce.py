"""VP replay protection: a signed callback's ``x-nonce`` is accepted once.

VP's signature holds no secret, so a copy of a callback seen on the wire verifies again; the
nonce store refuses the copy (inside the five-minute clock window; outside it the timestamp does).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from journal.models import JournalEntry
from providers.client_base import SignedRequest
from providers.models import VpNonce
from providers.vp import nonces, signature
from providers.vp.client import build_request, encrypt_payload, envelope
from tests.helpers import balance, ledger_kinds, make_player, requires_postgres, run_concurrently
from tests.reliability.conftest import post_signed
from tests.reliability.flows import Answer, Flows, Gambler

D = Decimal
AGENT = "integratorTest01"  # tests/conftest.py
ALICE = Gambler("alice", "USD")


def bet(key: str = "vp-1", stake: str = "10", win: str = "4") -> dict:
    return Flows().open("vp", ALICE, key, D(stake), D(win)).payload


def headers_with(cipher_text: str, nonce: str, *, skew_ms: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000) + skew_ms)
    return {
        "x-agentid": AGENT,
        "x-timestamp": timestamp,
        "x-nonce": nonce,
        "x-signature": signature.sign(AGENT, timestamp, nonce, cipher_text),
    }


@pytest.fixture
def send(client: Client) -> Callable[[SignedRequest], Answer]:
    def _send(request: SignedRequest) -> Answer:
        return post_signed(client, "vp", request)

    return _send


def last_row() -> JournalEntry:
    row = JournalEntry.objects.order_by("-id").first()
    assert row is not None
    return row


@pytest.mark.django_db
def test_a_copy_of_a_signed_callback_is_refused_and_moves_nothing(send) -> None:
    make_player("alice", "USD", "100")
    request = build_request(bet())
    first = send(request)
    assert first.code == "0000" and first.balance == D("94.00")
    copy = send(request)
    assert copy.code == "9999" and "x-nonce was already used" in copy.body["errText"]
    assert balance() == D("94")
    assert ledger_kinds("vp-1", "vp") == [("stake", D("-10")), ("win", D("4"))]
    row = last_row()
    assert (row.outcome, row.signature_form, row.bet_key) == ("auth_failed", "refused", "vp-1")
    assert JournalEntry.objects.count() == 2


# Committed for real, as in production: the nonce is claimed after the wallet decided, in the
# transaction the endpoint holds, and the refusal rolls the second bet's movement back with it
# (inside a test's own transaction nothing is held, so nothing could be rolled back).
@pytest.mark.django_db(transaction=True)
def test_a_used_nonce_is_refused_on_another_body_too(send) -> None:
    """Whoever holds a used nonce cannot spend it again, even on another (valid) callback."""
    make_player("alice", "USD", "100")
    nonce = "ab" * 16
    for key in ("vp-1", "vp-2"):
        cipher_text = encrypt_payload(bet(key))
        request = SignedRequest("/providers/vp/", envelope(cipher_text), "application/json")
        answer = send(
            SignedRequest(request.path, request.body, headers=headers_with(cipher_text, nonce))
        )
        assert answer.code == ("0000" if key == "vp-1" else "9999")
    assert balance() == D("94")
    assert not ledger_kinds("vp-2", "vp")


@pytest.mark.django_db
def test_a_nonce_is_claimed_only_by_a_callback_that_authenticated(send) -> None:
    """A forged request cannot burn VP's next nonce: refusals before the check store nothing."""
    make_player("alice", "USD", "100")
    nonce = "cd" * 16
    cipher_text = encrypt_payload(bet())
    forged = {**headers_with(cipher_text, nonce), "x-signature": "00" * 32}
    assert send(SignedRequest("/providers/vp/", envelope(cipher_text), headers=forged)).code == (
        "9999"
    )
    garbage = {"cipherText": "A" * 60}
    answer = send(
        SignedRequest(
            "/providers/vp/", json.dumps(garbage).encode(), headers=headers_with("A" * 60, nonce)
        )
    )
    assert answer.code == "9999"
    assert not VpNonce.objects.exists()
    genuine = SignedRequest(
        "/providers/vp/", envelope(cipher_text), headers=headers_with(cipher_text, nonce)
    )
    assert send(genuine).code == "0000"
    assert VpNonce.objects.filter(nonce=nonce).count() == 1


@pytest.mark.django_db
def test_a_copy_without_its_headers_is_answered_as_a_repeat_and_moves_nothing(send) -> None:
    """Headers are optional on callbacks (vp.md), so a copy stripped of them is not refused;
    idempotency on betId is what makes it harmless: the first answer again, no money."""
    make_player("alice", "USD", "100")
    request = build_request(bet())
    assert send(request).code == "0000"
    stripped = send(SignedRequest(request.path, request.body))
    assert stripped.code == "0000" and stripped.balance == D("94.00")
    assert len(ledger_kinds("vp-1", "vp")) == 2
    assert last_row().signature_form == "absent"


@pytest.mark.django_db
def test_expired_nonces_are_purged_and_their_copies_are_stale_anyway(send) -> None:
    make_player("alice", "USD", "100")
    now = timezone.now()
    VpNonce.objects.create(nonce="old", signed_at=now - nonces.KEEP_FOR - timedelta(seconds=1))
    VpNonce.objects.create(nonce="fresh", signed_at=now - timedelta(minutes=4))
    assert nonces.purge_expired(now) == 1
    assert list(VpNonce.objects.values_list("nonce", flat=True)) == ["fresh"]
    # A copy of a request signed when "old" was fresh: its timestamp is refused on its own.
    cipher_text = encrypt_payload(bet())
    stale = headers_with(cipher_text, "old", skew_ms=-(signature.MAX_CLOCK_SKEW_MS + 60_000))
    answer = send(SignedRequest("/providers/vp/", envelope(cipher_text), headers=stale))
    assert answer.code == "9999" and "5 minutes" in answer.body["errText"]
    assert balance() == D("100")


@pytest.mark.django_db
def test_the_purge_runs_now_and_then_from_the_callback_path(send, monkeypatch) -> None:
    make_player("alice", "USD", "100")
    VpNonce.objects.create(nonce="old", signed_at=timezone.now() - timedelta(hours=1))
    monkeypatch.setattr(nonces, "_last_purge", 0.0)
    assert send(build_request(bet())).code == "0000"
    assert not VpNonce.objects.filter(nonce="old").exists()
    assert VpNonce.objects.count() == 1


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_copies_racing_on_two_workers_get_through_once() -> None:
    make_player("alice", "USD", "100")
    payload = bet()
    request = build_request(payload)

    def task() -> Answer:
        return post_signed(Client(), "vp", request)

    for _ in range(5):
        results = run_concurrently([task] * 4)
        codes = sorted(r.code for r in results if isinstance(r, Answer))
        assert len(codes) == 4, results
        assert codes.count("0000") == 1 and codes.count("9999") == 3, codes
        request = build_request(payload)  # same bet, new nonce: a repeat (0000), not a copy
    assert balance() == D("94")
    assert len(ledger_kinds("vp-1", "vp")) == 2
